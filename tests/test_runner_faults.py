"""Faults of ``maexlab run``: no finished report is lost, every fault gives one line and its exit code.

The fixture notebooks in ``tests/fixtures/notebooks/faults/`` each stage one failure mode
(an exception, a process that dies, a cell that swallows the timeout, every kind of output,
state that must not leak between reports).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from maexlab.runner import cli_run
from maexlab.runner.cli_run import add_run_parser, run
from maexlab.runner.staging import RunLock

FAULTS = Path(__file__).parent / "fixtures" / "notebooks" / "faults"
#: Prefix of a runner started in a subprocess that a test interrupts: Python ignores Ctrl-C
#: in a process that starts with SIGINT ignored (as a background job of a script, e.g. a CI
#: runner's), so the child gets the default handler back, as in a terminal.
INTERRUPTIBLE = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def nbdir(tmp_path: Path) -> Path:
    d = tmp_path / "notebooks"
    shutil.copytree(FAULTS, d)
    return d


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders of this process (job control folders) go here, so the test can see leftovers."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def write(tmp_path: Path, text: str, name: str = "set.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def by_key(m: dict) -> dict[str, dict]:
    return {f"{r['notebook_stem']}/{r['params'].get('seed')}": r for r in m["reports"]}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="maexlab")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_parser(sub)
    args = parser.parse_args(list(argv))
    return args.func(args)


# --- every failure mode in one run ------------------------------------------------------


def test_each_failure_mode_is_contained_to_its_report(tmp_path, nbdir, private_tmp):
    path = write(
        tmp_path,
        "name: faults\nnotebooks: [raises_error, hard_crash, ignores_timeout, display_outputs, state_isolation]\n"
        "grid:\n  seed: [1, 2]\n",
    )
    out = tmp_path / "out"
    rc = run(path, notebooks_dir=nbdir, out=out, workers=2, timeout=4, progress="log")
    assert rc == 1
    run_dir = out / "faults"
    reports = by_key(manifest(run_dir))
    for seed in (1, 2):
        err = reports[f"raises_error/{seed}"]
        assert err["status"] == "failed" and err["error"] == f"cell 4: ValueError: bad value for seed {seed}"
        html = (run_dir / err["path"] / "raises_error.html").read_text(encoding="utf-8")
        assert "maexlab-incomplete" in html and "bad value for seed" in html  # the banner, with the error
        assert "before the error" in html  # the output up to the failing cell is kept

        crash = reports[f"hard_crash/{seed}"]
        assert crash["status"] == "failed" and "killed by signal SIGKILL" in crash["error"]
        nb = json.loads((run_dir / crash["path"] / "hard_crash.ipynb").read_text(encoding="utf-8"))
        assert any("about to die" in "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
        assert "maexlab-incomplete" in (run_dir / crash["path"] / "hard_crash.html").read_text(encoding="utf-8")

        stubborn = reports[f"ignores_timeout/{seed}"]
        assert stubborn["status"] == "timeout" and "timed out after 4 s" in stubborn["error"]
        assert stubborn["duration"] < 30  # killed after the grace period, not after its 120 s loop

        for name in ("display_outputs", "state_isolation"):
            assert reports[f"{name}/{seed}"]["status"] == "ok", reports[f"{name}/{seed}"]["error"]
        assert reports[f"state_isolation/{seed}"]["headline"] == {"Seed": seed}
    assert list(private_tmp.iterdir()) == []  # every job's control folder removed
    assert not (run_dir / ".staging").exists()


def test_outputs_are_captured_like_a_kernel(tmp_path, nbdir):
    path = write(tmp_path, "name: shows\nnotebooks: [display_outputs]\nruns:\n  - {seed: 3}\n")
    assert run(path, notebooks_dir=nbdir, out=tmp_path / "out", workers=1, progress="log") == 0
    (report,) = manifest(tmp_path / "out" / "shows")["reports"]
    nb = json.loads((tmp_path / "out" / "shows" / report["path"] / "display_outputs.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    injected = code[1]
    assert injected["id"] == "injected-parameters" and injected["metadata"]["tags"] == ["injected-parameters"]
    assert "seed = 3" in "".join(injected["source"]) and 'output_dir = "."' in "".join(injected["source"])
    assert nb["metadata"]["papermill"]["parameters"] == {"seed": 3, "output_dir": "."}
    streams = [(o["name"], "".join(o["text"])) for o in code[2]["outputs"]]
    assert streams == [("stdout", "one\n"), ("stderr", "two\n"), ("stdout", "three\n0 1 2 ")]  # merged, in order
    kinds = [[sorted(o.get("data", {})) for o in c["outputs"]] for c in code[3:6]]
    assert kinds[0][0] == ["image/png", "text/plain"]  # IPython.display.Image
    assert kinds[0][1] == ["text/markdown", "text/plain"]
    assert kinds[1] == [["image/png", "text/plain"]]  # display(fig)
    assert ["image/png", "text/plain"] in kinds[2]  # a figure left open: the inline backend shows it
    assert code[-1]["outputs"][0]["output_type"] == "execute_result"
    assert all(c["metadata"]["papermill"] == {"exception": False, "status": "completed"} for c in code)
    timings = json.loads((tmp_path / "out" / "shows" / report["path"] / ".timings.json").read_text(encoding="utf-8"))
    assert len(timings["cells"]) == len(code) and report["execution_time"] == timings["total"]


# --- never lose a finished report -------------------------------------------------------


def test_rerun_interrupted_after_first_report_keeps_the_others(tmp_path, nbdir):
    psutil = pytest.importorskip("psutil")
    path = write(tmp_path, "name: keep\nnotebooks: [state_isolation]\ngrid:\n  seed: [1, 2, 3]\n")
    out = tmp_path / "out"
    assert run(path, notebooks_dir=nbdir, out=out, workers=1, progress="log") == 0
    run_dir = out / "keep"
    first = manifest(run_dir)
    before = {r["params"]["seed"]: snapshot(run_dir / r["path"]) for r in first["reports"]}

    slow = tmp_path / "slow"  # makes seeds 2 and 3 sleep in the re-run
    slow.write_text("x")
    code = (
        INTERRUPTIBLE + "import sys; from maexlab.runner.cli_run import run; print('go', flush=True); "
        f"sys.exit(run({str(path)!r}, notebooks_dir={str(nbdir)!r}, out={str(out)!r}, workers=1, progress='log'))"
    )
    env = {**os.environ, "MAEXLAB_TEST_SLOW_FILE": str(slow)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and manifest_status(run_dir, 1) != "ok":
            time.sleep(0.2)
        assert manifest_status(run_dir, 1) == "ok"
        time.sleep(1.0)  # seed 2 is in its sleeping cell
        started = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive
    m = manifest(run_dir)
    assert m["status"] == "interrupted"
    statuses = {r["params"]["seed"]: r["status"] for r in m["reports"]}
    assert statuses == {1: "ok", 2: "stale", 3: "stale"}
    for r in m["reports"]:
        now = snapshot(run_dir / r["path"])
        if r["params"]["seed"] == 1:
            assert set(now) == set(before[1]) and now[".done.json"] != before[1][".done.json"]  # replaced
        else:
            assert now == before[r["params"]["seed"]]  # the earlier report, byte for byte
            assert "earlier run" in r["error"]
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert index.count("stale") >= 2
    assert not (run_dir / ".staging").exists()


def manifest_status(run_dir: Path, seed: int) -> str | None:
    try:
        m = manifest(run_dir)
    except (OSError, ValueError):
        return None
    if m.get("status") != "running":
        return None
    return next((r["status"] for r in m["reports"] if r["params"].get("seed") == seed), None)


def test_second_concurrent_run_is_refused(tmp_path, nbdir, capsys):
    path = write(tmp_path, "name: busy\nnotebooks: [state_isolation]\nruns:\n  - {seed: 1}\n")
    run_dir = tmp_path / "out" / "busy"
    run_dir.mkdir(parents=True)
    (run_dir / "marker.txt").write_text("untouched")
    holder = RunLock(run_dir)
    holder.acquire({"name": "busy", "started": "2026-01-01T00:00:00"})
    try:
        assert run(path, notebooks_dir=nbdir, out=tmp_path / "out", progress="log") == cli_run.EXIT_BUSY
    finally:
        holder.release()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is in use by run 'busy'" in err[0] and f"pid {os.getpid()}" in err[0], err
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock", "marker.txt"]  # nothing written


def test_identical_inputs_give_identical_files(tmp_path, nbdir):
    path = write(tmp_path, "name: same\nnotebooks: [display_outputs, raises_error]\ngrid:\n  seed: [1, 2]\n")
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(path, notebooks_dir=nbdir, out=a, workers=2, progress="log") == 1
    assert run(path, notebooks_dir=nbdir, out=b, workers=1, progress="log") == 1
    files_a, files_b = snapshot(a / "same"), snapshot(b / "same")
    assert set(files_a) == set(files_b)
    # run records carry times by design; everything a report publishes must be identical
    records = {"manifest.json", "index.html", "index.en.html", ".lock"}
    compared = [f for f in files_a if f not in records and not Path(f).name.startswith(".")]
    assert len(compared) >= 10
    different = [f for f in compared if files_a[f] != files_b[f]]
    assert different == []
    for f in compared:
        if f.endswith((".ipynb", ".html")):
            text = files_a[f].decode("utf-8")
            assert str(tmp_path) not in text and "/tmp/" not in text, f  # no absolute paths


# --- one clear line and an exit code for each fault ----------------------------------------


def one_line_error(capsys: pytest.CaptureFixture) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("maexlab run: ") and "Traceback" not in err[0], err
    return err[0]


def test_out_is_a_file(tmp_path, nbdir, capsys):
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    (tmp_path / "file").write_text("x")
    assert run(path, notebooks_dir=nbdir, out=tmp_path / "file", progress="log") == cli_run.EXIT_OUTPUT
    assert "is a file, not a folder" in one_line_error(capsys)


def test_unwritable_run_folder(tmp_path, nbdir, capsys, monkeypatch):
    # the tests may run as root, for whom permission bits do not apply: make the lock's open fail as a read-only folder would
    def refuse(self, info):
        raise PermissionError(errno.EACCES, "Permission denied", str(self.path))

    monkeypatch.setattr(RunLock, "acquire", refuse)
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    assert run(path, notebooks_dir=nbdir, out=tmp_path / "out", progress="log") == cli_run.EXIT_OUTPUT
    line = one_line_error(capsys)
    assert "cannot lock the run folder" in line and ".lock: Permission denied" in line


def test_disk_full_at_first_manifest_write(tmp_path, nbdir, capsys, monkeypatch):
    def full(run_dir, manifest):
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(run_dir) / "manifest.json"))

    monkeypatch.setattr(cli_run, "write_manifest", full)
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    assert run(path, notebooks_dir=nbdir, out=tmp_path / "out", progress="log") == cli_run.EXIT_OUTPUT
    assert "manifest.json: No space left on device" in one_line_error(capsys)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"timeout": float("nan")}, "--timeout must be a finite number of seconds > 0"),
        ({"timeout": float("inf")}, "--timeout must be a finite number of seconds > 0"),
        ({"timeout": -1}, "--timeout must be a finite number of seconds > 0"),
        ({"kernel": "nosuchkernel"}, "--kernel 'nosuchkernel': no such Jupyter kernel"),
        ({"workers": 0}, "--workers must be a whole number >= 1"),
        ({"scheduler": "tcp://127.0.0.1:1"}, "--scheduler needs --executor dask"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(tmp_path, nbdir, capsys, kwargs, expected):
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    out = tmp_path / "out"
    assert run(path, notebooks_dir=nbdir, out=out, progress="log", **kwargs) == cli_run.EXIT_INVALID
    assert expected in one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "abc"])
def test_cli_timeout_must_be_finite(tmp_path, nbdir, capsys, value):
    with pytest.raises(SystemExit) as info:
        cli("run", "x.yaml", "--timeout", value)
    assert info.value.code == 2
    assert "--timeout" in capsys.readouterr().err


def test_run_name_is_slugified(tmp_path, nbdir, capsys):
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    name = "A <b>run</b>\nwith ~ newline " + "x" * 300
    assert run(path, notebooks_dir=nbdir, out=tmp_path / "out", run_name=name, progress="log") == 0
    (folder,) = (tmp_path / "out").iterdir()
    assert folder.name == ("a-b-run-b-with-newline-" + "x" * 80)[:80]
    assert "is used as folder" in capsys.readouterr().err


def test_unreachable_scheduler(tmp_path, nbdir, capsys):
    pytest.importorskip("distributed")
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    out = tmp_path / "out"
    t0 = time.monotonic()
    rc = run(path, notebooks_dir=nbdir, out=out, executor="dask", scheduler="tcp://127.0.0.1:9", progress="log")
    assert rc == cli_run.EXIT_EXECUTOR
    assert time.monotonic() - t0 < 60
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9 within 10 s" in one_line_error(capsys)
    assert not out.exists()  # nothing was written


def test_ctrl_c_in_the_first_seconds(tmp_path, nbdir):
    path = write(tmp_path, "runs:\n  - {seed: 1}\nnotebooks: [state_isolation]\n")
    code = (
        INTERRUPTIBLE + "import sys; from maexlab.runner.cli_run import run; print('go', flush=True); "
        f"sys.exit(run({str(path)!r}, notebooks_dir={str(nbdir)!r}, out={str(tmp_path / 'out')!r}, progress='log'))"
    )
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "go"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "maexlab run: interrupted" in err


# --- the kernel engine --------------------------------------------------------------------

FLAKY_KERNEL = """
import sys
from pathlib import Path
counter = Path(sys.argv[1])
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
if n == 0:
    sys.exit("flaky kernel: failing its first start on purpose")
from ipykernel.kernelapp import launch_new_instance
sys.argv = [sys.argv[0], "-f", sys.argv[2]]
launch_new_instance()
"""


@pytest.fixture
def flaky_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kernel named 'flaky' that fails its first start and works after."""
    kernels = tmp_path / "jupyter" / "kernels" / "flaky"
    kernels.mkdir(parents=True)
    script = tmp_path / "flaky_kernel.py"
    script.write_text(FLAKY_KERNEL)
    counter = tmp_path / "starts"
    spec = {
        "argv": [sys.executable, str(script), str(counter), "{connection_file}"],
        "display_name": "flaky",
        "language": "python",
        "env": {"PYTHONPATH": str(ROOT)},
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return counter


def test_kernel_start_is_retried(tmp_path, nbdir, flaky_kernel, private_tmp):
    path = write(tmp_path, "name: k\nnotebooks: [display_outputs]\nruns:\n  - {seed: 1}\n")
    out = tmp_path / "out"
    rc = run(path, notebooks_dir=nbdir, out=out, kernel="flaky", engine="kernel", progress="log")
    (report,) = manifest(out / "k")["reports"]
    assert rc == 0, report["error"]
    assert flaky_kernel.read_text() == "2"  # failed once, started on the retry
    nb = json.loads((out / "k" / report["path"] / "display_outputs.ipynb").read_text(encoding="utf-8"))
    streams = sorted((o["name"], "".join(o["text"])) for o in nb["cells"][3]["outputs"])
    # a kernel buffers stdout and stderr apart, so only the merged text of each stream is fixed
    assert streams == [("stderr", "two\n"), ("stdout", "one\nthree\n0 1 2 ")]
    assert list(private_tmp.iterdir()) == []


def test_no_connection_file_left_after_a_timeout(tmp_path, nbdir, private_tmp, monkeypatch):
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = tmp_path / "runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    path = write(tmp_path, "name: t\nnotebooks: [ignores_timeout]\nruns:\n  - {seed: 1}\n")
    out = tmp_path / "out"
    assert jupyter_runtime_dir() == str(runtime)
    rc = run(path, notebooks_dir=nbdir, out=out, engine="kernel", timeout=6, progress="log")
    assert rc == 1
    (report,) = manifest(out / "t")["reports"]
    assert report["status"] == "timeout"
    assert list(private_tmp.iterdir()) == []  # connection file and IPC sockets lived there
    assert not runtime.exists() or not list(runtime.glob("kernel-*.json"))


def test_dask_keeps_partial_notebooks_and_cleans_scratch(tmp_path, nbdir, monkeypatch):
    pytest.importorskip("distributed")
    scratch = tmp_path / "worker-tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the cluster's worker processes put their scratch folders here
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = write(tmp_path, "name: d\nnotebooks: [raises_error, ignores_timeout]\nruns:\n  - {seed: 1}\n")
    out = tmp_path / "out"
    rc = run(path, notebooks_dir=nbdir, out=out, executor="dask", workers=2, timeout=4, progress="log")
    assert rc == 1
    m = manifest(out / "d")
    reports = by_key(m)
    assert reports["raises_error/1"]["status"] == "failed" and reports["ignores_timeout/1"]["status"] == "timeout"
    for r in m["reports"]:
        folder = out / "d" / r["path"]
        stem = r["notebook_stem"]
        assert (folder / f"{stem}.ipynb").is_file() and "maexlab-incomplete" in (folder / f"{stem}.html").read_text("utf-8")
        injected = json.loads((folder / f"{stem}.ipynb").read_text("utf-8"))["cells"][2]
        assert 'output_dir = "."' in "".join(injected["source"])  # never the worker's scratch path
    assert not list(scratch.glob("maexlab-job-*"))


def test_runner_killed_leaves_a_truthful_manifest_and_no_processes(tmp_path, nbdir):
    psutil = pytest.importorskip("psutil")
    path = write(tmp_path, "name: killed\nnotebooks: [state_isolation]\ngrid:\n  seed: [1, 2, 3]\n")
    out = tmp_path / "out"
    run_dir = out / "killed"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    slow = tmp_path / "slow"
    slow.write_text("x")
    code = (
        "import sys; from maexlab.runner.cli_run import run; "
        f"sys.exit(run({str(path)!r}, notebooks_dir={str(nbdir)!r}, out={str(out)!r}, workers=1, progress='log'))"
    )
    env = {**os.environ, "MAEXLAB_TEST_SLOW_FILE": str(slow), "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and manifest_status(run_dir, 1) != "ok":
            time.sleep(0.2)
        time.sleep(1.0)
        started = psutil.Process(proc.pid).children(recursive=True)
        assert started
        proc.kill()  # no chance to clean up: the warm worker must notice and take its reports with it
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(started, timeout=20)
    assert not alive, [p.cmdline() for p in alive]
    assert not list(scratch.glob("maexlab-job-*"))
    m = manifest(run_dir)
    assert m["status"] == "running"  # it died: the lock is free, so the next run knows
    assert {r["params"]["seed"]: r["status"] for r in m["reports"]} == {1: "ok", 2: "not-run", 3: "not-run"}
    slow.unlink()
    assert run(path, notebooks_dir=nbdir, out=out, workers=1, progress="log") == 0
    assert {r["status"] for r in manifest(run_dir)["reports"]} == {"ok"}
    assert not (run_dir / ".staging").exists()


# --- the warm worker dies mid-run -----------------------------------------------------------


def test_dead_warm_worker_is_started_again_once(tmp_path, nbdir, monkeypatch, capsys):
    marker = tmp_path / "kill-once"
    marker.write_text("x")
    monkeypatch.setenv("MAEXLAB_TEST_KILL_WORKER_FILE", str(marker))
    path = write(tmp_path, "name: restart\nnotebooks: [kills_warm_worker, state_isolation]\ngrid:\n  seed: [1, 2]\n")
    out = tmp_path / "out"
    assert run(path, notebooks_dir=nbdir, out=out, workers=2, progress="log") == 0
    assert not marker.exists()  # the worker was killed once
    m = manifest(out / "restart")
    assert {r["status"] for r in m["reports"]} == {"ok"}, [r["error"] for r in m["reports"]]
    record = m["run"]["warm_worker"]
    assert record["restarts"] == 1 and len(record["deaths"]) == 1 and "warm worker died" in record["deaths"][0]
    for r in m["reports"]:
        if r["notebook_stem"] == "kills_warm_worker":
            nb = json.loads((out / "restart" / r["path"] / "kills_warm_worker.ipynb").read_text(encoding="utf-8"))
            assert any("ran to the end" in "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "warm worker died; starting it again" in capsys.readouterr().err


def test_warm_worker_dying_again_fails_the_rest_with_the_reason(tmp_path, nbdir, monkeypatch):
    monkeypatch.setenv("MAEXLAB_TEST_KILL_WORKER_ALWAYS", "1")
    path = write(tmp_path, "name: again\nnotebooks: [kills_warm_worker, state_isolation]\ngrid:\n  seed: [1]\n")
    out = tmp_path / "out"
    assert run(path, notebooks_dir=nbdir, out=out, workers=1, timeout=60, progress="log") == 1
    m = manifest(out / "again")
    assert m["status"] == "failed"
    assert m["run"]["warm_worker"]["restarts"] == 1 and len(m["run"]["warm_worker"]["deaths"]) == 2
    killer = next(r for r in m["reports"] if r["notebook_stem"] == "kills_warm_worker")
    assert killer["status"] == "failed" and "lost with the warm worker" in killer["error"]
    other = next(r for r in m["reports"] if r["notebook_stem"] == "state_isolation")
    assert other["status"] in ("ok", "failed")  # ran before the killer, or refused with the reason
    if other["status"] == "failed":
        assert "warm worker is not running" in other["error"]
    assert not (out / "again" / ".staging").exists()
