"""Polls every lab host's engine while a rollout runs and tells whether two were ever down at once.

    engine_poller.py --hosts h1,h2,h3 --out FILE --seconds 600 --stop-file F   (runs until F exists)
    engine_poller.py --report FILE                                             (prints the verdict as JSON)

One thread per host runs `docker exec HOST systemctl is-active docker.service` (the outer engine's
CLI, bounded by a timeout each) and records (time, host, state). Anything but "active" counts as
down. The report lists each host's down intervals and the most engines down at the same time.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

DOCKER = os.environ.get('LAB_DOCKER', '/usr/bin/docker')


def poll_host(host, deadline, stop_file, samples, lock, interval):
    while time.monotonic() < deadline and not os.path.exists(stop_file):
        started = time.time()
        try:
            out = subprocess.run([DOCKER, 'exec', host, 'systemctl', 'is-active', 'docker.service'],
                                 capture_output=True, text=True, timeout=5, check=False).stdout.strip()
        except subprocess.TimeoutExpired:
            out = 'no-answer'
        with lock:
            samples.append((started, host, out or 'unknown'))
        time.sleep(interval)


def poll(hosts, out, seconds, stop_file, interval):
    samples, lock = [], threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=poll_host, args=(host, deadline, stop_file, samples, lock, interval))
               for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(out, 'w') as stream:
        json.dump(dict(hosts=hosts, samples=sorted(samples)), stream)


def down_intervals(samples, host):
    """[start, end) of each run of non-active samples of one host."""
    intervals, start = [], None
    for when, name, state in samples:
        if name != host:
            continue
        if state != 'active' and start is None:
            start = when
        elif state == 'active' and start is not None:
            intervals.append((start, when))
            start = None
    if start is not None:
        intervals.append((start, float('inf')))
    return intervals


def max_down_together(intervals_by_host):
    events = []
    for intervals in intervals_by_host.values():
        for start, end in intervals:
            events.append((start, 1))
            events.append((end, -1))
    most = current = 0
    for _when, delta in sorted(events, key=lambda event: (event[0], event[1])):
        current += delta
        most = max(most, current)
    return most


def report(path):
    data = json.load(open(path))
    by_host = dict((host, down_intervals(data['samples'], host)) for host in data['hosts'])
    counts = dict((host, sum(1 for _w, h, _s in data['samples'] if h == host)) for host in data['hosts'])
    return dict(samples=counts, down=dict((h, [[round(s, 2), round(e, 2)] for s, e in iv]) for h, iv in by_host.items()),
                down_seconds=dict((h, round(sum(e - s for s, e in iv), 2)) for h, iv in by_host.items()),
                max_down_together=max_down_together(by_host))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--hosts')
    parser.add_argument('--out')
    parser.add_argument('--seconds', type=float, default=600)
    parser.add_argument('--stop-file')
    parser.add_argument('--interval', type=float, default=0.1)
    parser.add_argument('--report')
    args = parser.parse_args()
    if args.report:
        print(json.dumps(report(args.report)))
        return 0
    poll(args.hosts.split(','), args.out, args.seconds, args.stop_file, args.interval)
    return 0


if __name__ == '__main__':
    sys.exit(main())
