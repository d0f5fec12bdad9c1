"""Peak RSS of the emulator after 24 hours of market time at the default flow.

    python bench/memory.py [--hours 24] [--step 600]

Runs `python -m emulator serve` in a child process on a manual clock (seed 7, start 2011-07-10,
default flow: twelve seeded agents, a day of seeded history), then plays --hours of market time
through POST /_emulator/clock/advance in --step second steps, polling the hot read routes
(ticker, depth, trades since the last poll) between steps as a client would, so that the trade log,
wallet histories, BitcoinAverage history and the request journal all grow as they do in use. Peak
RSS is the child's VmHWM from /proc/<pid>/status; VmRSS is sampled after start-up and every hour.

The final line gives the peak and the target. Target: < 150 MB.
"""

import argparse
import subprocess
import sys
import time

import httpx

from emulator.server import free_port

TARGET_MB = 150
START = "2011-07-10T00:00:00Z"


def status_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step", type=float, default=600.0, help="market seconds per advance")
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--clock", "manual"]
    child = subprocess.Popen([*command, "--seed", "7", "--start", START], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    ba = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}
    began = time.perf_counter()
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                try:
                    if http.get("/_emulator/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            ready_mb = status_mb(child.pid, "VmRSS")
            print(f"  ready: RSS {ready_mb:.1f} MB")
            tid = http.get("/code/data/getTrades.php").json()[-1]["tid"]
            played, next_report, trades = 0.0, 3600.0, 0
            while played < args.hours * 3600:
                step = min(args.step, args.hours * 3600 - played)
                http.post("/_emulator/clock/advance", json={"seconds": step}).raise_for_status()
                played += step
                http.get("/code/data/ticker.php").raise_for_status()
                http.get("/code/data/getDepth.php").raise_for_status()
                http.get("/indices/global/ticker/BTCUSD", headers=ba).raise_for_status()
                while True:
                    page = http.get("/code/data/getTrades.php", params={"since": tid}).json()
                    if not page:
                        break
                    trades += len(page)
                    tid = page[-1]["tid"]
                if played >= next_report:
                    hours = played / 3600
                    print(f"  {hours:4.0f} h: RSS {status_mb(child.pid, 'VmRSS'):.1f} MB, {trades} new trades so far")
                    next_report += 3600 * max(1, round(args.hours / 6))
            peak = status_mb(child.pid, "VmHWM")
            final = status_mb(child.pid, "VmRSS")
    finally:
        child.terminate()
        child.wait(timeout=10)
    wall = time.perf_counter() - began
    verdict = "met" if peak < TARGET_MB else "NOT met"
    print(
        f"memory: peak RSS {peak:.1f} MB after {args.hours:g} h of market time ({trades} trades, {wall:.0f} s wall); "
        f"at ready {ready_mb:.1f} MB, at end {final:.1f} MB; target < {TARGET_MB} MB: {verdict}"
    )


if __name__ == "__main__":
    main()
