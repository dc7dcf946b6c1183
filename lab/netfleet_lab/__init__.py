"""netfleet_lab: a fleet of Docker hosts on one machine (the netfleet.docker lab).

The modules, one job each:
    settings   paths, names, addresses and the environment the lab reads
    engine     the outer Docker engine: the `docker` CLI wrapper, LabError, progress lines
    recipe     what an image is made of (Debian suite, packages, the files in lab/image/),
               hashed into its tag and cache name
    mirror     which Debian mirror to build from, and whether it answers
    images     build (mmdebstrap | docker import), cache (docker save | gzip), load
    state      the lab's parameters (from the environment, from the running hosts)
    access     SSH key, authorized_keys and the Ansible inventory
    hosts      bring-up and teardown of the hosts and their underlay networks
    cli        the commands of lab/labctl.py

The shell that runs inside an image (entrypoint, customize hook, sshd drop-in) lives in
lab/image/ as real files, so shellcheck sees it.
"""
