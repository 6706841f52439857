"""`unspin check` and `unspin restore` on real documents: PDF pages, JATS references, DOCX out."""

from __future__ import annotations

import io
import json

from unspin.cli.main import main

LIST = "profound learning\tdeep learning\nirregular woodland\trandom forest\n"


def run(argv, stdin: bytes = b""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def make_pdf(path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for page in ("We describe a profound learning model.", "The irregular woodland baseline is weaker."):
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, 760, page)
        pdf.showPage()
    pdf.save()


JATS = """<?xml version="1.0"?>
<!DOCTYPE article [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<article><front><article-meta><title-group><article-title>A study</article-title></title-group>
</article-meta></front><body><sec><title>Methods</title><p>We trained a profound learning model.</p></sec></body>
<back><ref-list><ref><mixed-citation>Doe J. Profound learning for all. 2020.</mixed-citation></ref></ref-list></back>
</article>"""


def test_pdf_findings_carry_their_page(tmp_path):
    make_pdf(tmp_path / "paper.pdf")
    (tmp_path / "list.tsv").write_text(LIST)
    code, out, err = run(["check", str(tmp_path / "paper.pdf"), "--no-engine", "--fingerprints",
                          str(tmp_path / "list.tsv"), "--format", "json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["document"]["format"] == "pdf"
    assert [(s["text"], s["location"]["page"]) for s in report["spans"]] == [
        ("profound learning", 1), ("irregular woodland", 2)]


def test_jats_references_are_not_judged_and_entities_not_resolved(tmp_path):
    (tmp_path / "list.tsv").write_text(LIST)
    path = tmp_path / "article.xml"
    path.write_text(JATS.replace("<p>We", "<p>&secret; We"))
    code, out, err = run(["check", str(path), "--no-engine", "--fingerprints", str(tmp_path / "list.tsv"),
                          "--format", "json"])
    assert code == 6 and "entit" in err and out == ""  # a document declaring external entities is refused
    path.write_text(JATS.replace('<!DOCTYPE article [<!ENTITY secret SYSTEM "file:///etc/hostname">]>\n', ""))
    code, out, err = run(["check", str(path), "--no-engine", "--fingerprints", str(tmp_path / "list.tsv"),
                          "--format", "json"])
    report = json.loads(out)
    assert code == 0, err
    assert [s["location"]["section"] for s in report["spans"]] == ["Methods"]  # the reference is excluded
    assert [r["kind"] for r in report["document"]["excluded"]] == ["references"]


def test_restore_writes_a_docx(tmp_path):
    from docx import Document

    (tmp_path / "list.tsv").write_text(LIST)
    (tmp_path / "in.md").write_text("# Title\n\nA profound learning model.\n")
    target = tmp_path / "out.docx"
    code, _, err = run(["restore", str(tmp_path / "in.md"), "--no-engine", "--fingerprints", str(tmp_path / "list.tsv"),
                        "--format", "docx", "-o", str(target)])
    assert code == 0, err
    assert [p.text for p in Document(str(target)).paragraphs] == ["# Title", "A deep learning model."]
    code, _, err = run(["restore", str(tmp_path / "in.md"), "--format", "docx", "--no-engine"])
    assert code == 2 and "-o" in err
