"""What the PyTorch UNet baseline measures (issue 9 item 6: 25.9 ms against 51.9 ms for the same step).

The record has two PyTorch fp16 figures for one UNet CFG step (batch 2, 512×512, H100): 25.9 ms (SPEC §6, an
earlier probe) and 51.9 ms (tools/gpu, 2026-11-26). Both are "eager, 3 warm-ups, mean of 10". What the records
already show: SPEC §6 gives 28.9 ms at 768×768, 2.35× the work (4.0 against 1.7 TFLOP) for +12 % time, and
tools/gpu gives fp32 55.2 ms against fp16 51.9 ms. A step whose time hardly follows its arithmetic is bounded by
the host (Python and ~1,600 kernel launches per step), not by the GPU; and tools/gpu timed PyTorch while its
exports ran on the CPU beside it (13 threads on 16 cores).

This probe measures that in one run, per dtype and side, on the UNet step as tools/gpu times it:
  eager        mean of 10 calls after 3 warm-ups, on an idle CPU (before any export starts)
  loaded       the same with N busy processes on the CPU (N = the exports' threads in run-on-device.sh)
  graph        the same step captured once as a CUDA graph and replayed (no Python, no per-kernel launch)
  kernels      one eager call under torch.profiler: the number of GPU kernels and the sum of their times
  busy         kernel time over eager wall time
So: eager ≈ graph ≈ kernel time means the GPU is the bound; eager ≫ graph means the host is, and then the eager
figure depends on the CPU and what else runs on it. Settings are recorded (TF32, cuDNN benchmark, attention
processor, CPU model). Asserts nothing; prints a markdown table and writes JSON.

    python -m tools.export.torch_baseline --json OUT.json --md OUT.md [--size full|tiny] [--device cuda|cpu]
        [--load N] [--deadline-s S]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from .gpu_bench import WEB_SIDES, build_one, cuda_time, unet_call

# The exports run-on-device.sh starts beside PyTorch: 2 (MoVQ) + 4 (UNet) + 4 (prior) + 3 (text encoder) threads.
EXPORT_THREADS = 13


def cpu_model() -> str:
    """The host CPU's model name (Linux), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def settings(model) -> dict:
    """What decides the baseline besides the GPU: library versions, math modes, attention, the host."""
    import diffusers

    procs = sorted({type(p).__name__ for p in model.attn_processors.values()})
    return {
        "torch": torch.__version__, "diffusers": diffusers.__version__,
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "cpu": cpu_model(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark, "attention_processors": procs,
        "protocol": "eager: 3 warm-ups, mean of 10; graph: one capture, 3 warm-up replays, mean of 10",
    }


def kernel_profile(fn, device: str) -> tuple[int | None, float | None]:
    """GPU kernels launched by one call and the sum of their times (ms); (None, None) off CUDA."""
    if device != "cuda":
        return None, None
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    device = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    kernels = [e for e in device if not e.name.startswith(("Memcpy", "Memset"))]
    return len(kernels), sum(e.device_time_total for e in device) / 1e3


def graph_time(fn, warmup: int, repeats: int, device: str) -> float | None:
    """Mean ms per replay of fn captured as one CUDA graph; None off CUDA."""
    if device != "cuda":
        return None
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):  # warm-up on a side stream before capture (torch.cuda.graph's documented pattern)
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    ms = cuda_time(graph.replay, warmup, repeats, device)
    del graph
    return ms


class CpuLoad:
    """N busy Python processes for the duration of a `with` block (the exports' share of the CPU)."""

    def __init__(self, n: int):
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.n)]
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def probe(size: str, device: str, load: int, deadline: float, warmup=3, repeats=10, on_row=None) -> dict:
    """Times the UNet step per dtype and side: eager idle, eager under `load` busy processes, CUDA graph, kernels."""
    model = build_one("unet", size, device)
    result = {"settings": settings(model), "load_processes": load, "rows": []}
    sides = WEB_SIDES[size]["movq_decoder"]  # 512 and 768 (tiny: 64 and 128), SPEC §6's two UNet sides
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for dt in ("fp16", "fp32") if device == "cuda" else ("fp32",):
        tdt = {"fp16": torch.float16, "fp32": torch.float32}[dt]
        model = model.to(tdt)
        for side in sides:
            if time.time() > deadline:
                result["rows"].append({"dtype": dt, "side": side, "skipped": "past the deadline"})
                continue
            fn = unet_call(model, side, tdt, device)
            row: dict = {"dtype": dt, "side": side}
            with torch.no_grad():
                row["eager_ms"] = cuda_time(fn, warmup, repeats, device)
                try:
                    row["kernels"], row["kernel_ms"] = kernel_profile(fn, device)
                except Exception as e:  # noqa: BLE001
                    row["kernels"], row["kernel_ms"], row["profile_error"] = None, None, f"{type(e).__name__}: {str(e)[:200]}"
                try:
                    row["graph_ms"] = graph_time(fn, warmup, repeats, device)
                except Exception as e:  # noqa: BLE001 - a capture failure is a finding, not a crash
                    row["graph_ms"], row["graph_error"] = None, f"{type(e).__name__}: {str(e)[:200]}"
                if load > 0 and time.time() < deadline:
                    with CpuLoad(load):
                        row["loaded_ms"] = cuda_time(fn, warmup, repeats, device)
                sync()
            result["rows"].append(row)
            if on_row:
                on_row(result)
            print(f"[baseline] {dt} {side}: {json.dumps(row)}", flush=True)
    return result


def _f(v, digits=1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def markdown(result: dict) -> str:
    """The probe as a markdown table with its settings."""
    s = result["settings"]
    lines = [
        "# PyTorch UNet CFG step (batch 2): what the eager baseline measures", "",
        f"PyTorch {s['torch']}, diffusers {s['diffusers']}, {s['gpu'] or 'CPU'}; host {s['cpu']} ({s['cpu_count']} cores, "
        f"{s['torch_threads']} torch threads); TF32 matmul {s['tf32_matmul']}, TF32 cuDNN {s['tf32_cudnn']}, "
        f"cuDNN benchmark {s['cudnn_benchmark']}; attention {', '.join(s['attention_processors'])}; {s['protocol']}.", "",
        f"| dtype | side | eager ms (idle CPU) | eager ms ({result['load_processes']} busy processes) | CUDA graph ms "
        "| GPU kernels per step | GPU ms (kernels and copies) | GPU busy in eager |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if "skipped" in r:
            lines.append(f"| {r['dtype']} | {r['side']} | skipped: {r['skipped']} | | | | | |")
            continue
        busy = None if r.get("kernel_ms") is None else 100 * r["kernel_ms"] / r["eager_ms"]
        graph = _f(r.get("graph_ms"), 2) if "graph_error" not in r else f"failed: {r['graph_error']}"
        lines.append(f"| {r['dtype']} | {r['side']}×{r['side']} | {_f(r['eager_ms'], 2)} | {_f(r.get('loaded_ms'), 2)} | {graph} "
                     f"| {r.get('kernels') if r.get('kernels') is not None else '–'} | {_f(r.get('kernel_ms'), 2)} | "
                     f"{'–' if busy is None else f'{busy:.0f} %'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.export.torch_baseline", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--md", type=Path, required=True)
    p.add_argument("--size", choices=("full", "tiny"), default="full")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--load", type=int, default=None, help=f"busy processes for the loaded figure (default {EXPORT_THREADS}, "
                   "at most the cores less one; 0: none)")
    p.add_argument("--deadline-s", type=float, default=120)
    args = p.parse_args(argv)
    deadline = time.time() + args.deadline_s
    load = min(EXPORT_THREADS, max(0, (os.cpu_count() or 1) - 1)) if args.load is None else args.load
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.md.parent.mkdir(parents=True, exist_ok=True)

    def write(result: dict) -> None:
        args.json.write_text(json.dumps(result, indent=1))
        args.md.write_text(markdown(result))

    result = probe(args.size, args.device, load, deadline, on_row=write)
    write(result)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
