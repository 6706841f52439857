"""`unspin check --format csv|xlsx|html`: one file for every document, written atomically."""

from __future__ import annotations

import csv
import io
import json

from unspin.cli.main import main


def run(argv, stdin: bytes = b""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write_inputs(tmp_path):
    (tmp_path / "list.tsv").write_text("profound learning\tdeep learning\n", encoding="utf-8")
    docs = [{"id": "a<script>", "text": "Profound learning works."}, {"id": "b", "text": "Nothing here."}]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    return ["--no-engine", "--fingerprints", str(tmp_path / "list.tsv"), "--input-format", "jsonl"]


def test_csv_has_one_row_per_finding(tmp_path):
    options = write_inputs(tmp_path)
    code, out, err = run(["check", str(tmp_path / "in.jsonl"), *options, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0, err
    assert [(r["id"], r["text"], r["suggestion"], r["rule"]) for r in rows] == [
        ("a<script>", "Profound learning", "Deep learning", "list:1")]


def test_html_is_one_escaped_page_for_all_documents(tmp_path):
    options = write_inputs(tmp_path)
    code, _, err = run(["check", str(tmp_path / "in.jsonl"), *options, "--format", "html", "-o", str(tmp_path / "r.html")])
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert code == 0, err
    assert 'data-suggestion="Deep learning"' in page and "a&lt;script&gt;" in page and "a<script>" not in page


def test_xlsx_needs_an_output_file(tmp_path):
    from openpyxl import load_workbook

    options = write_inputs(tmp_path)
    code, _, err = run(["check", str(tmp_path / "in.jsonl"), *options, "--format", "xlsx"])
    assert code == 2 and "-o" in err
    code, _, err = run(["check", str(tmp_path / "in.jsonl"), *options, "--format", "xlsx", "-o", str(tmp_path / "r.xlsx")])
    assert code == 0, err
    workbook = load_workbook(tmp_path / "r.xlsx")
    assert {"Findings", "Summary"} <= set(workbook.sheetnames)
    assert workbook["Summary"].max_row == 3  # a header and two documents
