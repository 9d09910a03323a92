"""tools/export/torch_baseline.py on the CPU (tiny UNet): every row is timed, CPU-only figures are absent, not made up."""
import json

from tools.export.torch_baseline import CpuLoad, main


def test_probe_times_each_side_idle_and_loaded_and_leaves_gpu_columns_empty(tmp_path):
    assert main(["--json", str(tmp_path / "b.json"), "--md", str(tmp_path / "b.md"), "--size", "tiny", "--device", "cpu",
                 "--load", "1"]) == 0
    result = json.loads((tmp_path / "b.json").read_text())
    assert result["load_processes"] == 1
    assert result["settings"]["attention_processors"] == ["AttnAddedKVProcessor2_0"]
    assert [(r["dtype"], r["side"]) for r in result["rows"]] == [("fp32", 64), ("fp32", 128)]
    for r in result["rows"]:
        assert r["eager_ms"] > 0 and r["loaded_ms"] > 0
        # No CUDA here: no kernel count, no kernel time, no graph replay.
        assert r["kernels"] is None and r["kernel_ms"] is None and r["graph_ms"] is None
    md = (tmp_path / "b.md").read_text()
    assert "| fp32 | 64×64 |" in md and "| fp32 | 128×128 |" in md and "1 busy processes" in md


def test_probe_past_its_deadline_marks_rows_skipped(tmp_path):
    assert main(["--json", str(tmp_path / "b.json"), "--md", str(tmp_path / "b.md"), "--size", "tiny", "--device", "cpu",
                 "--load", "0", "--deadline-s", "0"]) == 0
    rows = json.loads((tmp_path / "b.json").read_text())["rows"]
    assert rows == [{"dtype": "fp32", "side": 64, "skipped": "past the deadline"},
                    {"dtype": "fp32", "side": 128, "skipped": "past the deadline"}]


def test_cpu_load_ends_its_processes():
    with CpuLoad(2) as load:
        assert all(p.poll() is None for p in load.procs)
    assert all(p.poll() is not None for p in load.procs)
