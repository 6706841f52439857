"""The command line, called in-process through main(argv) with fake streams."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from unspin.cli import main as cli_main
from unspin.cli.main import main

SPUN = "Atmosphere alteration is presently the greatest danger confronting beach front networks.\n"
# Both spun phrases of SPUN, for the list-only checker: findings that do not move when the engine does.
LIST = "atmosphere alteration\tclimate change\nbeach front networks\tcoastal communities\n"


def run(argv, stdin: bytes = b""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def list_only(tmp_path):
    """The options of a checker that reports LIST's matches only (`--no-engine`): deterministic."""
    path = tmp_path / "spun.tsv"
    path.write_text(LIST, encoding="utf-8")
    return ["--mode", "fast", "--no-engine", "--fingerprints", str(path)]


def assert_one_line_error(code, err, expected_code):
    assert code == expected_code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unspin: error"), err
    assert "Traceback" not in err


def test_missing_file(tmp_path):
    code, out, err = run(["check", str(tmp_path / "nope.txt"), "--mode", "fast"])
    assert_one_line_error(code, err, 3)
    assert "does not exist" in err and out == ""


def test_directory(tmp_path):
    code, _, err = run(["check", str(tmp_path), "--mode", "fast"])
    assert_one_line_error(code, err, 3)
    assert "directory" in err


def test_binary_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    code, _, err = run(["check", str(path), "--mode", "fast"])
    assert_one_line_error(code, err, 6)  # read, but no document unspin can check
    assert "binary" in err
    code, _, err = run(["check", str(path), "--mode", "fast", "--input-format", "text"])
    assert_one_line_error(code, err, 3)


def test_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait".encode("latin-1"))
    code, _, err = run(["check", str(path), "--mode", "fast"])
    assert_one_line_error(code, err, 3)
    assert "UTF-8" in err and "iconv" in err


def test_usage_error_exit_2():
    code, _, err = run(["check", "--no-such-flag"])
    assert_one_line_error(code, err, 2)


def test_empty_input_gives_empty_report():
    code, out, _ = run(["check", "-", "--mode", "fast", "--format", "json"], stdin=b"")
    assert code == 0
    report = json.loads(out)
    assert report["score"] == 0 and report["spans"] == [] and report["verdict"] == "clean"
    assert report["restored"] == ""


def test_json_contract_and_offsets():
    code, out, _ = run(["check", "-", "--mode", "fast", "--format", "json"], stdin=SPUN.encode())
    assert code == 0
    report = json.loads(out)
    contract = ["schema", "unspin_version", "id", "mode", "model", "score", "verdict", "spans", "restored"]
    assert list(report)[:9] == contract  # then additions only
    assert set(report) - set(contract) <= {"risk", "density_per_1k", "document"}
    assert report["risk"] in {"none", "low", "medium", "high"}
    assert report["document"]["format"] == "text"
    assert report["schema"] == "unspin.report/1" and report["mode"] == "fast" and report["model"] is None
    assert 0 <= report["score"] <= 1 and report["verdict"] in {"spun", "suspect", "clean"}
    last_end = 0
    for span in report["spans"]:
        assert SPUN[span["start"]:span["end"]] == span["text"]
        assert span["start"] >= last_end
        last_end = span["end"]
        assert 0 <= span["confidence"] <= 1 and span["detector"] in {"minilm-swap-tagger.v1", "idiom.v1"}
    assert report["spans"], "the spun example should have at least one finding"


def test_jsonl_round_trip_keeps_ids_and_order(tmp_path):
    lines = [{"id": "b", "text": SPUN}, {"id": 7, "text": "The cat sat on the mat."}, {"id": None, "text": ""}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out, _ = run(["check", str(path), "--input-format", "jsonl", "--format", "jsonl", "--mode", "fast"])
    assert code == 0
    reports = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in reports] == ["b", 7, None]


def test_bad_jsonl_line_names_it_and_leaves_no_output(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "fine"}\n{"id": 2, "text": \n', encoding="utf-8")
    target = tmp_path / "out.jsonl"
    code, _, err = run(["check", str(path), "--input-format", "jsonl", "--format", "jsonl",
                        "--mode", "fast", "-o", str(target)])
    assert_one_line_error(code, err, 3)
    assert "line 2" in err
    assert list(tmp_path.iterdir()) == [path]


def test_output_file_not_overwritten_without_force(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(SPUN, encoding="utf-8")
    target = tmp_path / "out.json"
    target.write_text("keep me", encoding="utf-8")
    code, _, err = run(["check", str(source), "--mode", "fast", "--format", "json", "-o", str(target)])
    assert_one_line_error(code, err, 2)
    assert target.read_text() == "keep me"
    code, _, _ = run(["check", str(source), "--mode", "fast", "--format", "json", "-o", str(target), "--force"])
    assert code == 0 and json.loads(target.read_text())["schema"] == "unspin.report/1"


def test_restore_and_diff():
    code, restored, _ = run(["restore", "-", "--mode", "fast"], stdin=SPUN.encode())
    assert code == 0 and restored != SPUN
    code, diff, _ = run(["restore", "-", "--mode", "fast", "--diff"], stdin=SPUN.encode())
    assert code == 0 and "[-" in diff and "{+" in diff


def test_text_format_shows_line_and_column(list_only):
    code, out, _ = run(["check", "-", "--color", "never", *list_only], stdin=("\n" + SPUN).encode())
    assert code == 0
    lines = out.splitlines()
    # Line 2 (the text starts with a blank line), column 1 and 68, from 1, as editors count.
    assert "  2:1  Atmosphere alteration -> Climate change  confidence 0.95" in lines, out
    assert "  2:68  beach front networks -> coastal communities  confidence 0.95" in lines, out


def test_fail_on():
    code, _, _ = run(["check", "-", "--mode", "fast", "--fail-on", "suspect"], stdin=b"The cat sat on the mat.")
    assert code == 0


@pytest.mark.parametrize("level", ["spun", "suspect"])
def test_fail_on_exits_1_when_a_document_reaches_the_verdict(list_only, level):
    code, out, _ = run(["check", "-", "--format", "json", "--fail-on", level, *list_only], stdin=SPUN.encode())
    assert json.loads(out)["verdict"] == "spun"  # what --fail-on is measured against
    assert code == 1
    code, _, _ = run(["check", "-", "--format", "json", "--fail-on", "never", *list_only], stdin=SPUN.encode())
    assert code == 0
    code, out, _ = run(["check", "-", "--format", "json", "--fail-on", level, *list_only],
                       stdin=b"The cat sat on the mat.")
    assert json.loads(out)["verdict"] == "clean" and code == 0


def _crash(*args, **kwargs):
    raise RuntimeError("a bug in the command")


@pytest.mark.parametrize("where", ["none", "after", "before"])
def test_an_internal_error_is_one_line_unless_traceback_is_asked(monkeypatch, where):
    monkeypatch.setattr(cli_main, "run_check", _crash)
    argv = ["check", "-", "--mode", "fast"]
    argv = {"none": argv, "after": [*argv, "--traceback"], "before": ["--traceback", *argv]}[where]
    code, _, err = run(argv)
    lines = err.strip().splitlines()
    assert code == 4
    assert lines[-1].startswith("unspin: internal error: RuntimeError: a bug in the command (hint: ")
    if where == "none":
        assert len(lines) == 1 and "Traceback" not in err
        assert "rerun with --traceback" in lines[0]  # the hint names the flag that shows more
    else:
        assert lines[0] == "Traceback (most recent call last):"
        assert "in _crash" in err and "RuntimeError: a bug in the command" in lines[-2]


def test_real_subprocess_smoke(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(SPUN, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "unspin.cli.main", "check", str(path), "--mode", "fast",
                             "--format", "json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spans"]
    missing = subprocess.run([sys.executable, "-m", "unspin.cli.main", "check", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 3 and "Traceback" not in missing.stderr


def test_a_fast_check_in_a_fresh_process_prints_nothing_on_stderr():
    """Loading the learned detector must not leave library progress bars on stderr, where users
    and scripts read unspin's one-line messages."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "unspin", "check", "-", "--mode", "fast"], input=SPUN.encode(),
                          capture_output=True, timeout=300)
    assert done.returncode == 0 and done.stdout
    assert done.stderr.decode() == ""


def test_help_version_and_usage_errors_go_to_the_streams_main_was_given(capsys):
    out, err = io.StringIO(), io.StringIO()
    assert main(["screen", "--help"], stdin=io.BytesIO(b""), stdout=out, stderr=err) == 0
    assert "--world-size" in out.getvalue() and err.getvalue() == ""
    out = io.StringIO()
    assert main(["--version"], stdin=io.BytesIO(b""), stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().startswith("unspin")
    err = io.StringIO()
    assert main(["check", "x.txt", "--no-such-option"], stdin=io.BytesIO(b""), stdout=io.StringIO(), stderr=err) == 2
    assert "--no-such-option" in err.getvalue()
    assert capsys.readouterr() == ("", "")  # nothing reached the process's own streams
