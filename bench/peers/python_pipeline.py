#!/usr/bin/env python3
"""Peer for sluice's executor benches: the pipeline a Python user would write by hand, one
thread per stage connected by bounded queue.Queue objects (the shape of a PyTorch DataLoader
feeding a model loop, without the worker processes).

  python_pipeline.py scheduling --batches 100000 --maps 3
  python_pipeline.py overhead --batches 64 --concurrency 16 --sleep-ms 1000
"""
import argparse
import concurrent.futures
import queue
import resource
import threading
import time

DONE = object()


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def scheduling(batches, maps):
    queues = [queue.Queue(maxsize=8) for _ in range(maps + 1)]

    def source():
        for i in range(batches):
            queues[0].put(i)
        queues[0].put(DONE)

    def stage(inp, out):
        while True:
            item = inp.get()
            out.put(item)
            if item is DONE:
                return

    count = [0]

    def sink():
        while queues[-1].get() is not DONE:
            count[0] += 1

    threads = [threading.Thread(target=source)]
    threads += [threading.Thread(target=stage, args=(queues[i], queues[i + 1])) for i in range(maps)]
    threads.append(threading.Thread(target=sink))
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    assert count[0] == batches
    stages = maps + 2
    print(f"python_pipeline scheduling batches={batches} stages={stages} wall_s={wall:.3f} cpu_s={cpu:.3f} "
          f"batches_per_s={batches / wall:.0f} cpu_us_per_batch_per_stage={cpu / batches / stages * 1e6:.3f} "
          f"cpu_us_per_batch={cpu / batches * 1e6:.3f}")


def overhead(batches, concurrency, sleep_ms):
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: time.sleep(sleep_ms / 1000), range(batches)))
    wall = time.perf_counter() - t0
    ideal = -(-batches // concurrency) * sleep_ms / 1000
    print(f"python_pipeline overhead batches={batches} concurrency={concurrency} sleep={sleep_ms}ms "
          f"wall_s={wall:.4f} ideal_s={ideal:.4f} overhead_pct={100 * (wall - ideal) / ideal:.3f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["scheduling", "overhead"])
    p.add_argument("--batches", type=int, default=None)
    p.add_argument("--maps", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--sleep-ms", type=int, default=1000)
    a = p.parse_args()
    if a.mode == "scheduling":
        scheduling(a.batches or 100000, a.maps)
    else:
        overhead(a.batches or 64, a.concurrency, a.sleep_ms)


if __name__ == "__main__":
    main()
