"""Document extraction on real files the tests make themselves: PDFs drawn with reportlab, DOCX
written with python-docx, JATS XML from a template, HTML pages. Each test asserts the extracted
text and where known spans land (offset, page, paragraph, section), or the error a bad file gets.
reportlab and python-docx are test dependencies: missing, the module fails to import (never a
silent skip).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from unspin.documents import (
    CorruptDocument,
    DocumentError,
    EncryptedDocument,
    ExtractedDocument,
    NoTextLayer,
    UnsafeDocument,
    UnsupportedFormat,
    extract,
    sniff_format,
)
from unspin.documents.hyphenation import join_lines, keep_hyphen
from unspin.documents.model import Block, Region, normalise_regions
from unspin.errors import InputError

def assert_consistent(document: ExtractedDocument) -> None:
    """The invariants every extraction keeps, whatever the format."""
    text = document.text
    last = 0
    for region in document.excluded:
        assert last <= region.start < region.end <= len(text), region
        assert text[region.start:region.end].strip() == text[region.start:region.end]
        last = region.end
    last = 0
    for number, block in enumerate(document.blocks, start=1):
        assert last <= block.start < block.end <= len(text), block
        assert block.paragraph == number
        assert text[block.start:block.end].strip()
        last = block.end
    for repair in document.repairs:
        assert 0 <= repair.start < repair.end <= len(text)
    scored = document.scored_text()
    assert len(scored) == len(text)
    for region in document.excluded:
        assert not scored[region.start:region.end].strip()
    for start, end in document.included():
        assert scored[start:end] == text[start:end]


def span(document: ExtractedDocument, phrase: str) -> tuple[int, int]:
    start = document.text.index(phrase)
    return start, start + len(phrase)


# -- PDF -------------------------------------------------------------------------------------------

A4 = (595.27, 841.89)


def pdf_bytes(pages, *, encrypt=None, title: str | None = None) -> bytes:
    """A PDF whose pages draw the given (x, y-from-top, text, size[, font]) strings."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1, encrypt=encrypt)
    if title:
        c.setTitle(title)
    for page in pages:
        for item in page:
            if callable(item):
                item(c)
                continue
            x, y, text, size, *font = item
            c.setFont(font[0] if font else "Helvetica", size)
            c.drawString(x, A4[1] - y, text)
        c.showPage()
    c.save()
    return buffer.getvalue()


def lines_at(x: float, y: float, lines: list[str], size: float = 10, leading: float = 12):
    return [(x, y + i * leading, line, size) for i, line in enumerate(lines)]


def one_column_pages() -> list:
    running = [(72, 40, "Journal of Synthetic Tests 12 (2024)", 8), (290, 810, "{}", 9)]
    pages = []
    for number, body in enumerate([
        ["Deep learning has changed how text is analysed.", "This first page talks about profound learning",
         "and little else."],
        ["The second page is about something else entirely,", "namely the weather in spring."],
        ["On the third page we meet atmosphere alteration,", "a phrase spinners produce."],
    ], start=1):
        page = [(x, y, text.format(number), size) for x, y, text, size in running]
        if number == 1:
            page.append((72, 80, "Spinning Detection in Practice", 18, "Helvetica-Bold"))
        page += lines_at(72, 130, body)
        pages.append(page)
    return pages


def two_column_page() -> list:
    left = lines_at(72, 130, ["The left column starts here and it", "talks about profo-", "und learning in many",
                              "settings for a long time."])
    left += lines_at(72, 200, ["A second left paragraph that is", "the last one of the left column."])
    right = lines_at(320, 130, ["The right column begins with this", "line and continues with a well-",
                                "known result about the state-of-the-", "art methods."])
    return [(72, 80, "Two Columns", 18, "Helvetica-Bold"), *left, *right]


def test_pdf_one_column_pages_and_running_heads():
    document = extract(pdf_bytes(one_column_pages()), name="paper.pdf")
    assert_consistent(document)
    assert document.format == "pdf"
    assert document.metadata["pages"] == 3
    assert document.metadata["title"] == "Spinning Detection in Practice"
    assert "Journal of Synthetic Tests" not in document.text  # running head on every page
    assert "\n\n2\n\n" not in document.text and not document.text.endswith("3")  # folios
    start, _ = span(document, "profound learning")
    assert document.location(start)["page"] == 1
    start, _ = span(document, "atmosphere alteration")
    place = document.location(start)
    assert place["page"] == 3
    assert place["section"] == "Spinning Detection in Practice"
    assert document.location(document.text.index("weather"))["page"] == 2
    assert document.text.startswith("Spinning Detection in Practice\n\nDeep learning has changed")
    assert "profound learning and little else." in document.text  # lines of a paragraph joined by a space


def test_pdf_page_numbers_are_dropped_even_on_two_pages():
    pages = [[*lines_at(72, 130, ["Text of the first page."]), (290, 810, "1", 9)],
             [*lines_at(72, 130, ["Text of the second page."]), (260, 810, "Page 2 of 2", 9), (72, 40, "xii", 9)]]
    document = extract(pdf_bytes(pages))
    assert document.text == "Text of the first page.\n\nText of the second page."
    assert [block.page for block in document.blocks] == [1, 2]


def test_pdf_two_columns_keep_column_order_and_repair_hyphens():
    document = extract(pdf_bytes([two_column_page()]))
    assert_consistent(document)
    text = document.text
    assert "profound learning" in text and "profo-" not in text
    assert "well-known result" in text  # a compound keeps its hyphen
    assert "state-of-the-art methods" in text
    # the left column is read whole before the right one
    assert text.index("settings for a long time") < text.index("A second left paragraph")
    assert text.index("the last one of the left column") < text.index("The right column begins")
    assert [document.text[b.start:b.end][:12] for b in document.blocks] == [
        "Two Columns", "The left col", "A second lef", "The right co"]
    (repair,) = [r for r in document.repairs if "profo" in r.original]
    assert text[repair.start:repair.end] == "profound"
    assert repair.original == "profo-\nund"
    assert document.location(repair.start) == {"page": 1, "paragraph": 2, "section": "Two Columns"}


def test_pdf_paragraph_continued_in_next_column_is_one_block():
    page = lines_at(72, 130, ["This sentence starts in the left column and", "runs to the bottom of it where the"])
    page += lines_at(320, 130, ["reader finds its end at the top of the right", "column, as papers do."])
    document = extract(pdf_bytes([page]))
    assert_consistent(document)
    assert document.text == ("This sentence starts in the left column and runs to the bottom of it where the "
                             "reader finds its end at the top of the right column, as papers do.")
    assert len(document.blocks) == 1


def test_pdf_bold_headings_of_body_size_open_sections():
    page = [(72, 80, "1 Introduction", 10, "Helvetica-Bold"),
            *lines_at(72, 100, ["Spinners swap words for synonyms blind to context."]),
            (72, 140, "2 Methods", 10, "Helvetica-Bold"),
            *lines_at(72, 160, ["We counted every counterfeit consciousness we met."])]
    document = extract(pdf_bytes([page]))
    assert_consistent(document)
    assert document.location(document.text.index("Spinners")) == {"page": 1, "paragraph": 2,
                                                                   "section": "1 Introduction"}
    assert document.location(document.text.index("counterfeit")) == {"page": 1, "paragraph": 4, "section": "2 Methods"}


def test_pdf_references_section_is_excluded():
    pages = one_column_pages()
    pages.append([(72, 80, "References", 14, "Helvetica-Bold"),
                  *lines_at(72, 110, ["[1] Smith J. Profound learning for all. J. Tests 2020."], leading=20),
                  *lines_at(72, 140, ["[2] Doe A. Counterfeit consciousness. Proc. Spin 2021."])])
    document = extract(pdf_bytes(pages))
    assert_consistent(document)
    start, end = span(document, "[1] Smith J.")
    assert document.excluded_kind(start, end) == "references"
    assert document.excluded_kind(*span(document, "Counterfeit consciousness")) == "references"
    assert document.location(start) == {"page": 4, "paragraph": document.block_at(start).paragraph,
                                        "section": "References"}
    assert document.excluded_kind(*span(document, "profound learning")) is None


def test_pdf_named_txt_is_still_a_pdf(tmp_path: Path):
    path = tmp_path / "looks-like-text.txt"
    path.write_bytes(pdf_bytes([two_column_page()]))
    assert sniff_format(path.read_bytes(), path.name) == "pdf"
    assert extract(path).format == "pdf"


def test_image_only_pdf_asks_for_ocr():
    def shapes(c):
        c.rect(100, 100, 300, 200, fill=1)
        c.circle(300, 600, 50)
        c.line(50, 50, 500, 700)

    with pytest.raises(NoTextLayer, match="no text layer; OCR it first") as caught:
        extract(pdf_bytes([[shapes], [shapes]]), name="scan.pdf")
    assert caught.value.exit_code == 6
    assert isinstance(caught.value, InputError)
    assert "ocrmypdf" in caught.value.one_line()


def test_scanned_page_image_pdf_asks_for_ocr():
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    image = Image.new("L", (200, 100), color=200)

    def scan(c):
        c.drawImage(ImageReader(image), 50, 300, width=400, height=200)

    with pytest.raises(NoTextLayer, match="OCR it first"):
        extract(pdf_bytes([[scan]]))


def test_encrypted_pdf_is_refused():
    data = pdf_bytes([two_column_page()], encrypt="secret")
    with pytest.raises(EncryptedDocument, match="encrypted PDF") as caught:
        extract(data, name="locked.pdf")
    assert "qpdf --decrypt" in caught.value.hint
    assert caught.value.exit_code == 6


def test_pdf_with_only_an_owner_password_is_read():
    from reportlab.lib.pdfencrypt import StandardEncryption

    data = pdf_bytes([two_column_page()], encrypt=StandardEncryption("", ownerPassword="owner", canCopy=0))
    assert "profound learning" in extract(data).text


def test_truncated_pdf_is_refused():
    data = pdf_bytes(one_column_pages())
    with pytest.raises(CorruptDocument, match="truncated PDF"):
        extract(data[: len(data) // 2], name="cut.pdf")


def test_damaged_pdf_is_refused():
    with pytest.raises(CorruptDocument, match="damaged PDF|no pages"):
        extract(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ngarbage\n%%EOF\n")


# -- hyphenation -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("left", "right", "keep"), [
    ("profo", "und", False),
    ("infor", "mation", False),
    ("some", "thing", False),
    ("immunohisto", "chemistry", False),
    ("well", "known", True),
    ("long", "term", True),
    ("decision", "making", True),
    ("the", "art", True),
    ("COVID", "19", True),
    ("non", "Euclidean", True),
])
def test_keep_hyphen(left, right, keep):
    assert keep_hyphen(left, right) is keep


def test_join_lines_records_each_repair():
    text, repairs = join_lines(["We saw profo-\n", "und effects and a well-\n", "known infor\u00ad\n", "mation flow."])
    assert text == "We saw profound effects and a well-known information flow."
    assert [(text[s:e], original) for s, e, original in repairs] == [
        ("profound", "profo-\nund"), ("information", "infor\u00ad\nmation")]


# -- DOCX ------------------------------------------------------------------------------------------

OMML = ('<m:oMath xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math">'
        '<m:r><m:t>E=m</m:t></m:r><m:sSup><m:e><m:r><m:t>c</m:t></m:r></m:e><m:sup><m:r><m:t>2</m:t></m:r></m:sup>'
        '</m:sSup></m:oMath>')


def docx_bytes() -> bytes:
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    document = Document()
    document.core_properties.title = "Spun Prose"
    document.core_properties.author = "A. Writer"
    document.add_heading("Spun Prose in Practice", 0)
    document.styles.add_style("Author", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Ada Lovelace, Analytical Engines Ltd, London", style="Author")
    document.add_heading("Introduction", 1)
    document.add_paragraph("Recent advances in counterfeit consciousness are everywhere.")
    paragraph = document.add_paragraph("Energy is ")
    paragraph._p.append(parse_xml(OMML))
    paragraph.add_run(" and code ")
    code = paragraph.add_run("print(x)")
    code.font.name = "Courier New"
    paragraph.add_run(" runs.")
    document.add_paragraph("To be or not to be, that is the question.", style="Quote")
    document.add_heading("Methods", 1)
    document.add_heading("Participants", 2)
    document.add_paragraph("We asked forty people about profound learning.")
    numbers = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Group", "Mean", "SD"), ("A", "12.5", "1.2"), ("B", "13.75", "0.9")]):
        for c, value in enumerate(row):
            numbers.cell(r, c).text = value
    words = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Term", "Meaning"), ("atmosphere alteration", "a spun form of climate change")]):
        for c, value in enumerate(row):
            words.cell(r, c).text = value
    document.add_paragraph("")  # empty paragraphs are not blocks
    document.add_heading("References", 1)
    document.add_paragraph("Smith J. Profound learning. Journal of Tests, 2020.")
    document.add_paragraph("Doe A. Counterfeit consciousness. Spin Letters, 2021.")
    document.add_heading("Appendix", 1)
    document.add_paragraph("The appendix is judged again.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_sections_paragraphs_and_exclusions():
    document = extract(docx_bytes(), name="paper.docx")
    assert_consistent(document)
    assert document.format == "docx"
    assert document.metadata["title"] == "Spun Prose" and document.metadata["author"] == "A. Writer"
    text = document.text
    assert text.startswith("Spun Prose in Practice\n\nAda Lovelace")
    start, _ = span(document, "counterfeit consciousness are")
    assert document.location(start) == {"paragraph": 4, "section": "Introduction"}
    assert document.excluded_kind(start) is None
    assert document.location(text.index("forty people")) == {"paragraph": 9, "section": "Participants"}
    assert document.excluded_kind(*span(document, "Ada Lovelace")) == "authors"
    assert document.excluded_kind(*span(document, "To be or not")) == "quotation"
    assert document.excluded_kind(*span(document, "E=mc2")) == "equation"
    assert document.excluded_kind(*span(document, "print(x)")) == "code"
    assert document.excluded_kind(*span(document, "Energy is")) is None
    assert document.excluded_kind(*span(document, "12.5\t1.2")) == "table"
    assert document.excluded_kind(*span(document, "Group\tMean\tSD")) == "table"
    assert document.excluded_kind(*span(document, "atmosphere alteration\ta spun form")) is None  # words, not numbers
    assert document.excluded_kind(*span(document, "Smith J. Profound")) == "references"
    assert document.excluded_kind(*span(document, "Doe A. Counterfeit")) == "references"
    assert document.location(text.index("Doe A."))["section"] == "References"
    assert document.excluded_kind(*span(document, "appendix is judged")) is None
    assert document.location(text.index("appendix is judged"))["section"] == "Appendix"


def test_docx_renamed_zip_is_still_a_docx(tmp_path: Path):
    path = tmp_path / "archive.zip"
    path.write_bytes(docx_bytes())
    assert sniff_format(path.read_bytes(), path.name) == "docx"
    assert "counterfeit consciousness" in extract(path).text


def test_docx_zip_bomb_is_refused_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<" + b" " * (24 * 2**20) + b"/>")
    with pytest.raises(UnsafeDocument, match="zip bomb") as caught:
        extract(buffer.getvalue(), name="report.docx")
    assert caught.value.exit_code == 6


def test_docx_over_the_unpacked_size_limit_is_refused(monkeypatch):
    import unspin.documents.docx as docx_module

    monkeypatch.setattr(docx_module, "MAX_UNCOMPRESSED", 10_000)
    with pytest.raises(UnsafeDocument, match="would unpack to"):
        extract(docx_bytes(), name="big.docx")


def test_truncated_docx_is_refused():
    data = docx_bytes()
    with pytest.raises(CorruptDocument, match="damaged or truncated DOCX"):
        extract(data[: len(data) // 2], name="cut.docx")


def test_zip_that_is_not_a_docx_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(UnsupportedFormat, match="not a DOCX"):
        extract(buffer.getvalue(), name="notes.zip")


# -- JATS ------------------------------------------------------------------------------------------

JATS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd"{subset}>
<article xmlns:mml="http://www.w3.org/1998/Math/MathML" xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article" dtd-version="1.2" xml:lang="en">
<front>
  <journal-meta><journal-title-group><journal-title>Journal of Tests</journal-title></journal-title-group>
    <issn pub-type="epub">1234-5678</issn></journal-meta>
  <article-meta>
    <article-id pub-id-type="doi">10.1234/jt.2024.001</article-id>
    <title-group><article-title>Profound Learning for <italic>Spun</italic> Text</article-title></title-group>
    <contrib-group>
      <contrib contrib-type="author"><name><surname>Lovelace</surname><given-names>Ada</given-names></name><xref ref-type="aff" rid="a1"><sup>1</sup></xref></contrib>
      <contrib contrib-type="author"><name><surname>Babbage</surname><given-names>Charles</given-names></name></contrib>
    </contrib-group>
    <aff id="a1"><label>1</label><institution>Analytical Engines Ltd</institution>, <country>UK</country></aff>
    <pub-date pub-type="epub"><year>2024</year></pub-date>
    <permissions><copyright-statement>Copyright 2024</copyright-statement></permissions>
    <abstract><p>We study counterfeit consciousness in large corpora.</p></abstract>
    <kwd-group><kwd>spinning</kwd></kwd-group>
  </article-meta>
</front>
<body>
  <sec id="s1"><label>1</label><title>Introduction</title>
    <p>Spinners turn deep learning into profound learning <xref ref-type="bibr" rid="r1">[1]</xref> and energy <inline-formula><mml:math><mml:mi>E</mml:mi><mml:mo>=</mml:mo><mml:mi>m</mml:mi><mml:msup><mml:mi>c</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:math></inline-formula> into nonsense &mdash; often{payload}.</p>
    <disp-quote><p>A quoted sentence that must not be judged.</p></disp-quote>
  </sec>
  <sec id="s2"><label>2</label><title>Methods</title>
    <sec id="s2a"><title>Data</title>
      <p>We collected atmosphere alteration examples.</p>
      <disp-formula id="e1"><label>(1)</label><tex-math>\\sum_i x_i = 1</tex-math></disp-formula>
      <table-wrap id="t1"><label>Table 1</label><caption><p>Counts per source.</p></caption>
        <table><thead><tr><th>Source</th><th>n</th><th>%</th></tr></thead>
        <tbody><tr><td>Web</td><td>120</td><td>60.0</td></tr><tr><td>Print</td><td>80</td><td>40.0</td></tr></tbody></table>
      </table-wrap>
      <p>Code such as <monospace>spin --all</monospace> was run.</p>
    </sec>
  </sec>
</body>
<back>
  <ack><title>Acknowledgements</title><p>We thank the reviewers.</p></ack>
  <ref-list><title>References</title>
    <ref id="r1"><mixed-citation publication-type="journal"><person-group person-group-type="author"><name><surname>Smith</surname><given-names>J</given-names></name></person-group>. <article-title>Profound learning</article-title>. <source>J Tests</source>. <year>2020</year>.</mixed-citation></ref>
    <ref id="r2"><element-citation publication-type="journal"><person-group person-group-type="author"><name><surname>Doe</surname><given-names>A</given-names></name></person-group><article-title>Counterfeit consciousness</article-title><source>Spin Lett</source><year>2021</year></element-citation></ref>
  </ref-list>
</back>
</article>
"""


def jats_bytes(subset: str = "", payload: str = "") -> bytes:
    return JATS.format(subset=subset, payload=payload).encode("utf-8")


def test_jats_text_sections_and_exclusions():
    document = extract(jats_bytes(), name="article.xml")
    assert_consistent(document)
    assert document.format == "jats"
    assert document.metadata == {"title": "Profound Learning for Spun Text", "doi": "10.1234/jt.2024.001",
                                 "journal": "Journal of Tests", "language": "en"}
    text = document.text
    assert text.startswith("Profound Learning for Spun Text\n\nLovelace Ada 1\n\nBabbage Charles\n\n"
                           "1 Analytical Engines Ltd, UK\n\nAbstract\n\nWe study counterfeit consciousness")
    assert "1234-5678" not in text and "Copyright" not in text and "spinning" not in text  # metadata only
    assert document.excluded_kind(*span(document, "Lovelace Ada")) == "authors"
    assert document.excluded_kind(*span(document, "Analytical Engines")) == "authors"
    assert document.location(text.index("counterfeit consciousness in large")) == {
        "paragraph": 6, "section": "Abstract"}
    start, end = span(document, "profound learning [1]")
    assert document.excluded_kind(start, end) is None
    assert document.location(start)["section"] == "1 Introduction"
    assert "into nonsense \u2014 often." in text  # &mdash; from the (unloaded) DTD, mapped
    assert document.excluded_kind(*span(document, "E=mc2")) == "equation"
    assert document.excluded_kind(*span(document, "A quoted sentence")) == "quotation"
    assert document.location(text.index("atmosphere alteration")) == {
        "paragraph": document.block_at(text.index("atmosphere alteration")).paragraph, "section": "Data"}
    assert document.excluded_kind(*span(document, "\\sum_i x_i = 1 (1)")) == "equation"
    assert document.excluded_kind(*span(document, "Table 1 Counts per source.")) is None  # a caption is prose
    assert document.excluded_kind(*span(document, "Web\t120\t60.0")) == "table"
    assert document.excluded_kind(*span(document, "spin --all")) == "code"
    assert document.excluded_kind(*span(document, "We thank the reviewers")) is None
    assert document.excluded_kind(*span(document, "Smith J. Profound learning. J Tests. 2020.")) == "references"
    assert document.excluded_kind(*span(document, "Doe A Counterfeit consciousness Spin Lett 2021")) == "references"
    assert text.endswith("Doe A Counterfeit consciousness Spin Lett 2021")


def test_jats_external_entity_is_never_resolved(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    subset = f' [<!ENTITY xxe SYSTEM "file://{secret}">]'
    data = jats_bytes(subset=subset, payload=" &xxe;")
    with pytest.raises(UnsafeDocument, match="external") as caught:
        extract(data, name="evil.xml")
    assert "TOP-SECRET" not in caught.value.one_line()
    assert caught.value.exit_code == 6
    # and the parser alone, without the refusal, does not resolve it either
    from unspin.documents.jats import extract_jats

    document = extract_jats(data, "evil.xml", check=False)
    assert "TOP-SECRET" not in document.text
    assert "into nonsense \u2014 often ." in document.text  # the reference is dropped, nothing put in
    assert any("&xxe;" in note for note in document.notes)


def test_jats_parameter_entity_is_refused(tmp_path: Path):
    subset = f' [<!ENTITY % remote SYSTEM "file://{tmp_path}/x.dtd"> %remote;]'
    with pytest.raises(UnsafeDocument):
        extract(jats_bytes(subset=subset))


def test_jats_entity_expansion_bomb_is_refused():
    laughs = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    subset = f' [<!ENTITY lol0 "lol">{laughs}]'
    with pytest.raises(UnsafeDocument, match="entity bomb"):
        extract(jats_bytes(subset=subset, payload=" &lol9;"))


def test_jats_internal_entities_are_substituted_one_level_only():
    subset = ' [<!ENTITY spin "article spinner"><!ENTITY twice "&spin; &spin;">]'
    document = extract(jats_bytes(subset=subset, payload=" by an &spin; or &twice;"))
    assert "into nonsense \u2014 often by an article spinner or ." in document.text
    assert any("&twice;" in note for note in document.notes)


def test_jats_inside_a_pmc_articleset():
    wrapped = jats_bytes().replace(b"<article ", b"<pmc-articleset><article ").replace(
        b"</article>", b"</article></pmc-articleset>")
    wrapped = wrapped.replace(b'<!DOCTYPE article PUBLIC', b'<!DOCTYPE pmc-articleset PUBLIC')
    assert sniff_format(wrapped, "pmc.xml") == "jats"
    assert "profound learning" in extract(wrapped).text


def test_generic_xml_is_not_jats():
    data = b'<?xml version="1.0"?>\n<catalog><book id="1"><title>Profound learning</title></book></catalog>\n'
    with pytest.raises(UnsupportedFormat, match="not JATS"):
        sniff_format(data, "books.xml")
    with pytest.raises(UnsupportedFormat):
        extract(data, name="books.xml")


def test_truncated_jats_is_refused():
    data = jats_bytes()
    with pytest.raises(CorruptDocument, match="not well-formed XML"):
        extract(data[: len(data) // 2], name="cut.xml")


# -- HTML ------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Spinning | Example Blog</title>
<script>var tracking = "SCRIPT-SECRET";</script><style>body {{ color: red }}</style></head>
<body>
<header class="site-header"><a href="/">Example Blog</a></header>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li><li><a href="/blog">Blog</a></li></ul></nav>
<div class="layout">
<aside class="sidebar"><h3>Popular posts</h3><p>Sidebar text that is not the article at all.</p></aside>
<article>
  <h1>On Profound Learning</h1>
  <p class="byline">By Ada Lovelace</p>
  <p>Spinners turn deep learning into profound learning and climate change into atmosphere alteration.{extra}</p>
  <blockquote><p>A quotation that must not be judged.</p></blockquote>
  <h2>Method</h2>
  <p>We ran <code>spin --all</code> over the corpus<script>document.write("INLINE-SECRET")</script>.</p>
  <pre><code>for word in text:
    spin(word)</code></pre>
  <table><tr><th>Year</th><th>Papers</th></tr><tr><td>2020</td><td>12</td></tr><tr><td>2021</td><td>40</td></tr></table>
  <div class="share-buttons"><a href="/s1">Share</a> <a href="/s2">Tweet</a> <a href="/s3">Mail</a></div>
  <h2>References</h2>
  <ol><li>Smith J. Profound learning. 2020.</li><li>Doe A. Counterfeit consciousness. 2021.</li></ol>
</article>
</div>
<footer><p>Copyright 2024 Example Blog. All rights reserved.</p></footer>
<div id="cookie-banner">We use cookies to improve your experience on this site.</div>
</body></html>
"""


def test_html_main_content_without_boilerplate_or_scripts():
    document = extract(PAGE.format(extra="").encode(), name="post.html")
    assert_consistent(document)
    text = document.text
    assert document.format == "html"
    assert document.metadata["title"] == "Spinning | Example Blog"
    assert document.metadata["language"] == "en"
    for absent in ("SCRIPT-SECRET", "INLINE-SECRET", "color: red", "Home", "About", "Sidebar text",
                   "Copyright 2024", "cookies", "Share", "Tweet"):
        assert absent not in text, absent
    assert text.startswith("On Profound Learning\n\nBy Ada Lovelace\n\nSpinners turn deep learning")
    assert any("script" in note for note in document.notes)
    start, end = span(document, "atmosphere alteration")
    assert document.excluded_kind(start, end) is None
    assert document.location(start) == {"paragraph": 3, "section": "On Profound Learning"}
    assert document.excluded_kind(*span(document, "By Ada Lovelace")) == "authors"
    assert document.excluded_kind(*span(document, "A quotation that")) == "quotation"
    assert document.excluded_kind(*span(document, "spin --all")) == "code"
    assert document.excluded_kind(*span(document, "We ran")) is None
    assert "over the corpus." in text
    assert document.excluded_kind(*span(document, "for word in text:\n    spin(word)")) == "code"
    assert document.excluded_kind(*span(document, "2021\t40")) == "table"
    assert document.excluded_kind(*span(document, "Doe A. Counterfeit")) == "references"
    assert document.location(text.index("Doe A."))["section"] == "References"


def test_html_without_landmarks_finds_the_densest_text():
    paragraphs = "".join(f"<p>Paragraph {i} of the story, long enough to count as real prose here.</p>"
                         for i in range(6))
    page = (f"<html><body><div id='top'><a href='/'>Home</a> | <a href='/x'>X</a> | <a href='/y'>Y</a></div>"
            f"<div class='wrap'><div class='story'>{paragraphs}</div>"
            f"<div class='widget'><p>Subscribe now.</p></div></div></body></html>")
    document = extract(page.encode())
    assert_consistent(document)
    assert document.text.startswith("Paragraph 0 of the story")
    assert "Home" not in document.text and "Subscribe" not in document.text
    assert len(document.blocks) == 6


def test_html_class_names_mark_parts_only_as_whole_words():
    page = ("<html><body><div class='author-content'><p>The whole post sits in a box whose class names its "
            "author, and it is prose to judge.</p><p class='byline'>Ada Lovelace</p></div></body></html>")
    document = extract(page.encode())
    assert document.excluded_kind(*span(document, "The whole post")) is None
    assert document.excluded_kind(*span(document, "Ada Lovelace")) == "authors"


def test_html_in_a_legacy_charset():
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 society and na\xefve spinning.</p></body></html>'
    document = extract(page.encode("latin-1"), name="old.htm")
    assert document.text == "Caf\xe9 society and na\xefve spinning."


# -- plain text and Markdown -----------------------------------------------------------------------

def test_plain_text_is_the_file_itself():
    raw = "Title line\n\nFirst paragraph about profound learning.\nSame paragraph.\n\nReferences\n\n[1] Smith.\n"
    document = extract(raw.encode(), name="paper.txt")
    assert_consistent(document)
    assert document.format == "text" and document.text == raw
    assert document.location(raw.index("profound")) == {"paragraph": 2}
    assert document.excluded_kind(*span(document, "[1] Smith.")) == "references"
    assert document.excluded_kind(*span(document, "profound learning")) is None


def test_markdown_sections_and_exclusions():
    raw = ("# Spun Text\n\nIntro with `inline code` and $x^2$ but $5 and $10 are money.\n\n"
           "Setext Section\n--------------\n\n> A quoted line\n> and another.\n\n"
           "```python\nprint('profound')\n\nprint('learning')\n```\n\n$$\nE = mc^2\n$$\n\n"
           "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n"
           "## References\n\n1. Smith J. 2020.\n2. Doe A. 2021.\n\n# Appendix\n\nJudged again.\n")
    document = extract(raw.encode(), name="notes.md")
    assert_consistent(document)
    assert document.format == "markdown" and document.text == raw
    assert document.excluded_kind(*span(document, "`inline code`")) == "code"
    assert document.excluded_kind(*span(document, "$x^2$")) == "equation"
    assert document.excluded_kind(*span(document, "$5 and $10")) is None
    assert document.location(raw.index("A quoted")) == {"paragraph": 4, "section": "Setext Section"}
    assert document.excluded_kind(*span(document, "> A quoted line\n> and another.")) == "quotation"
    assert document.excluded_kind(*span(document, "print('learning')")) == "code"
    assert document.excluded_kind(*span(document, "E = mc^2")) == "equation"
    assert document.excluded_kind(*span(document, "| 3 | 4 |")) == "table"
    assert document.excluded_kind(*span(document, "Doe A. 2021.")) == "references"
    assert document.excluded_kind(*span(document, "Judged again.")) is None
    assert document.location(raw.index("Judged"))["section"] == "Appendix"


# -- sniffing and errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "name", "expected"), [
    (b"Just some words.\n", None, "text"),
    (b"Just some words.\n", "a.md", "markdown"),
    (b"# Title\n\nSee [the site](http://x.org) and:\n\n- one\n- two\n", None, "markdown"),
    (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "page.txt", "html"),
    (b"<div><p>fragment</p></div>", None, "html"),
    (b"Hello <b>there</b>", "x.html", "html"),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "x.xml", "html"),
    (b"<!-- a note -->\n# Readme\n", "README.md", "markdown"),
    (b"\xef\xbb\xbf<article><front><article-meta/></front></article>", None, "jats"),
])
def test_sniff_format(data, name, expected):
    assert sniff_format(data, name) == expected


@pytest.mark.parametrize(("data", "error", "message"), [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, NoTextLayer, "no text layer; OCR it first"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, UnsupportedFormat, "legacy Office"),
    (b"\x1f\x8b\x08\x00" + b"\x00" * 20, UnsupportedFormat, "gzip"),
    (b"\x00\x01\x02binary", UnsupportedFormat, "binary"),
])
def test_unreadable_formats(data, error, message):
    with pytest.raises(error, match=message):
        sniff_format(data, "file.bin")


def test_every_reader_takes_the_same_bytes_for_binary(tmp_path: Path):
    # One test of "binary" (text.load.looks_binary) for text input, documents and fingerprint
    # lists: a NUL byte past the 4 KiB the list reader once looked at is binary to all three.
    from unspin.lexicon.fingerprints import load_fingerprints
    from unspin.text.load import decode, looks_binary

    data = b"profound learning\tdeep learning\n" * 160 + b"\x00tail\n"
    assert data.index(b"\x00") > 4096 and looks_binary(data)
    with pytest.raises(InputError, match="binary"):
        decode(data, "text.txt")
    with pytest.raises(UnsupportedFormat, match="binary"):
        extract(data, name="text.txt")
    (tmp_path / "list.tsv").write_bytes(data)
    with pytest.raises(InputError, match="binary"):
        load_fingerprints(tmp_path / "list.tsv")
    assert not looks_binary("UTF-8 text, ünïcödé".encode())


def test_empty_pdf_or_docx_is_refused():
    for name in ("empty.pdf", "empty.docx"):
        with pytest.raises(CorruptDocument, match="is empty"):
            extract(b"", name=name)
    assert extract(b"", name="empty.txt").text == ""


def test_password_protected_docx_is_called_encrypted():
    with pytest.raises(EncryptedDocument):
        extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="secret.docx")


def test_path_errors_and_size_limit(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist") as caught:
        extract(tmp_path / "missing.pdf")
    assert not isinstance(caught.value, DocumentError) and caught.value.exit_code == 3
    with pytest.raises(InputError, match="is a directory"):
        extract(tmp_path)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(UnsafeDocument, match="over the"):
        extract(big, max_bytes=1000)
    with pytest.raises(InputError, match="not valid UTF-8"):
        extract(b"caf\xe9 au lait", name="latin.txt")


def test_every_document_error_is_an_input_error_with_its_own_code():
    for cls in (DocumentError, UnsupportedFormat, NoTextLayer, EncryptedDocument, CorruptDocument, UnsafeDocument):
        error = cls("message", "hint")
        assert isinstance(error, InputError) and error.exit_code == 6
        assert error.one_line().startswith(f"unspin: error [{cls.reference}]: message (hint: hint)")


def test_extraction_is_deterministic():
    data = pdf_bytes([two_column_page()])
    assert extract(data) == extract(data)
    assert extract(docx_bytes()) == extract(docx_bytes())


# -- the model -------------------------------------------------------------------------------------

def test_regions_are_merged_and_trimmed():
    text = "ref one\n\nref two\n\nprose with code here"
    regions = normalise_regions([(0, 7, "references"), (9, 17, "references"), (30, 34, "code"),
                                 (29, 36, "code"), (18, 23, "quotation"), (21, 25, "code")], text)
    assert [(r.kind, text[r.start:r.end]) for r in regions] == [
        ("references", "ref one\n\nref two"),  # neighbours of one kind, only blank lines between: one region
        ("quotation", "prose"),
        ("code", "w"),  # overlapping a region of another kind: clipped, then trimmed
        ("code", "code he"),  # nested in one of its kind: merged
    ]


def test_location_between_blocks_and_scored_text():
    document = ExtractedDocument(
        text="Heading\n\nBody text here.", format="docx", excluded=(Region("quotation", 9, 13),),
        blocks=(Block(0, 7, 1, section="Heading", heading=True), Block(9, 24, 2, section="Heading")))
    assert document.location(8) == {"paragraph": 1, "section": "Heading"}  # the separator: the block before
    assert document.location(12) == {"paragraph": 2, "section": "Heading"}
    assert document.scored_text() == "Heading\n\n     text here."
    assert document.included() == [(0, 9), (13, 24)]
    assert document.excluded_kind(0, 9) is None and document.excluded_kind(12) == "quotation"


# -- robustness ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["pdf", "docx", "xml", "html"])
def test_damaged_files_fail_with_an_input_error_or_extract_consistently(kind):
    """Truncated and byte-flipped copies of good files: a clear InputError, never a crash."""
    import random

    good = {"pdf": lambda: pdf_bytes(one_column_pages()), "docx": docx_bytes, "xml": jats_bytes,
            "html": lambda: PAGE.format(extra="").encode()}[kind]()
    rng = random.Random(kind)
    for _ in range(60):
        data = bytearray(good)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            document = extract(bytes(data), name=f"damaged.{kind}")
        except InputError as error:
            assert error.message and "\n" not in error.message
        else:
            assert_consistent(document)


def test_any_text_extracts_to_itself():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("ab #>`$|-=*[]()\n\r\t.1") + ["References", "```", "$$", "\n\n", "é"])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(alphabet, max_size=60).map("".join), st.sampled_from(["x.md", "x.txt"]))
    def check(raw, name):
        raw = raw.lstrip("<")  # keep it text, not markup
        document = extract(raw.encode(), name=name)
        assert document.text == raw.removeprefix("\ufeff")
        assert_consistent(document)

    check()
