"""What an import reports: every problem, by line or item, in Bahasa Indonesia and English.

All messages live in one catalogue so that the two languages stay in step and tests can
check a problem by its code instead of by its wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from question_bank.items import Item

# code -> (Indonesian, English); fields are filled with str.format.
MESSAGES: dict[str, tuple[str, str]] = {
    "empty_file": (
        "Berkas kosong: tidak ada soal di dalamnya.",
        "The file is empty: it holds no questions.",
    ),
    "not_utf8": (
        "Berkas bukan UTF-8 (byte tidak sah di posisi {position}). Simpan ulang berkas sebagai UTF-8.",
        "The file is not UTF-8 (invalid byte at position {position}). Save it again as UTF-8.",
    ),
    "unknown_format": (
        "Format berkas tidak dikenali; gunakan CSV, XLSX, Moodle XML, GIFT, Aiken atau QTI 2.1.",
        "Unknown file format; use CSV, XLSX, Moodle XML, GIFT, Aiken or QTI 2.1.",
    ),
    "bad_format_name": (
        "Format '{fmt}' tidak dikenal; pilih salah satu dari: {allowed}.",
        "Unknown format '{fmt}'; choose one of: {allowed}.",
    ),
    "unreadable": ("Berkas tidak dapat dibaca: {detail}.", "The file cannot be read: {detail}."),
    "bad_xml": (
        "XML tidak sah di baris {xml_line}: {detail}.",
        "Invalid XML at line {xml_line}: {detail}.",
    ),
    "no_questions": ("Berkas tidak berisi soal.", "The file contains no questions."),
    "unsupported_type": (
        "Jenis soal '{qtype}' tidak didukung (hanya pilihan ganda, pilihan ganda kompleks dan benar/salah).",
        "Question type '{qtype}' is not supported (only multiple choice, multiple answer and true/false).",
    ),
    "skipped_type": (
        "Soal jenis '{qtype}' dilewati (tidak didukung).",
        "Skipped a question of type '{qtype}' (not supported).",
    ),
    "duplicate": (
        "Soal ini sama persis dengan soal di {first_id} (isi yang sama hanya boleh sekali).",
        "This question is identical to the one at {first_en} (the same content may appear once).",
    ),
    "empty_stem": ("Teks soal kosong.", "The question text is empty."),
    "too_few_options": (
        "Soal harus punya sedikitnya 2 opsi jawaban (ada {count}).",
        "A question needs at least 2 options (it has {count}).",
    ),
    "true_false_options": (
        "Soal benar/salah harus punya tepat 2 opsi (ada {count}).",
        "A true/false question needs exactly 2 options (it has {count}).",
    ),
    "empty_option": ("Opsi {option} kosong.", "Option {option} is empty."),
    "duplicate_option_id": (
        "Kode opsi {option} dipakai dua kali.",
        "Option id {option} is used twice.",
    ),
    "no_correct_answer": (
        "Soal tidak punya jawaban benar (tidak ada opsi bernilai positif).",
        "The question has no correct answer (no option earns credit).",
    ),
    "single_needs_full": (
        "Soal pilihan ganda harus punya satu opsi bernilai 100% (nilai tertinggi {best}%).",
        "A single-answer question needs one option worth 100% (the best is {best}%).",
    ),
    "fractions_sum": (
        "Nilai opsi yang benar harus berjumlah 100%, bukan {total}% ({fractions}).",
        "The right options' fractions must add up to 100%, not {total}% ({fractions}).",
    ),
    "fraction_range": (
        "Nilai opsi {option} ({value}%) harus di antara -100% dan 100%.",
        "Option {option}'s fraction ({value}%) must lie between -100% and 100%.",
    ),
    "negative_weight": (
        "Bobot opsi {option} ({value}) tidak boleh negatif pada soal berbobot (TKP).",
        "Option {option}'s weight ({value}) cannot be negative in a weighted (TKP) question.",
    ),
    "difficulty_range": (
        "Tingkat kesulitan {value} harus di antara 0 dan 1 (atau mudah/sedang/sulit).",
        "Difficulty {value} must lie between 0 and 1 (or mudah/sedang/sulit).",
    ),
    # Spreadsheets
    "missing_column": (
        "Kolom '{column}' tidak ada di baris judul.",
        "Column '{column}' is missing from the header row.",
    ),
    "unknown_column": (
        "Kolom '{column}' tidak dikenal (periksa ejaan; lihat templat).",
        "Unknown column '{column}' (check the spelling; see the template).",
    ),
    "duplicate_column": ("Kolom '{column}' muncul dua kali.", "Column '{column}' appears twice."),
    "bad_type": (
        "Tipe '{value}' tidak dikenal; gunakan pg, pgk, bs atau bobot.",
        "Unknown type '{value}'; use pg, pgk, bs or bobot.",
    ),
    "missing_key": ("Kolom kunci kosong.", "The key column (kunci) is empty."),
    "bad_key": (
        "Kunci '{value}' tidak menunjuk opsi yang terisi.",
        "Key '{value}' does not name a filled-in option.",
    ),
    "single_one_key": (
        "Soal pg hanya boleh punya satu kunci (tertulis '{value}'); gunakan tipe pgk untuk beberapa jawaban.",
        "A pg question takes one key (found '{value}'); use type pgk for several answers.",
    ),
    "bounds_need_weights": (
        "Kolom batas_bawah/batas_atas hanya berlaku untuk soal pgk dengan bobot persen.",
        "The batas_bawah/batas_atas columns apply only to pgk questions with percentage weights.",
    ),
    "bounds_order": (
        "batas_bawah ({lower}%) lebih besar dari batas_atas ({upper}%).",
        "batas_bawah ({lower}%) is greater than batas_atas ({upper}%).",
    ),
    "bad_number": (
        "Nilai '{value}' di kolom {column} bukan angka.",
        "Value '{value}' in column {column} is not a number.",
    ),
    "missing_weights": (
        "Soal bertipe bobot (TKP) harus mengisi bobot setiap opsi yang terisi (opsi {option} kosong).",
        "A weighted (TKP) question needs a weight for every filled-in option (option {option} has none).",
    ),
    "weight_without_option": (
        "Kolom {column} terisi tetapi opsinya kosong.",
        "Column {column} is filled in but its option is empty.",
    ),
    "bad_sheet": (
        "Workbook XLSX tidak dapat dibaca: {detail}.",
        "The XLSX workbook cannot be read: {detail}.",
    ),
    # Aiken (the wording follows Moodle's own Aiken messages)
    "aiken_few_answers": (
        "Soal harus punya sedikitnya 2 jawaban sebelum ANSWER.",
        "Question must have at least 2 answers before ANSWER.",
    ),
    "aiken_not_started": (
        "Soal belum dimulai (tidak ada teks soal sebelumnya).",
        "Question not started (no question text before it).",
    ),
    "aiken_not_completed": (
        "Soal sebelumnya belum selesai (tidak ada baris ANSWER) sebelum soal berikutnya dimulai.",
        "Question not completed (no ANSWER line) before the next question starts.",
    ),
    "aiken_unfinished_end": (
        "Soal terakhir tidak punya baris ANSWER.",
        "The last question has no ANSWER line.",
    ),
    "aiken_bad_answer": (
        "ANSWER '{value}' tidak menunjuk salah satu opsi.",
        "ANSWER '{value}' does not name one of the options.",
    ),
    # GIFT
    "gift_no_answers": ("Blok jawaban {{...}} tidak ditemukan.", "No answer block {{...}} found."),
    "gift_unclosed": (
        "Blok jawaban {{ tidak ditutup dengan }}.",
        "The answer block {{ is not closed by }}.",
    ),
    "gift_bad_weight": ("Bobot '{value}' tidak sah.", "Invalid weight '{value}'."),
    "trailing_junk": (
        "Teks '{text}' setelah blok jawaban diabaikan.",
        "Ignored the text '{text}' after the answer block.",
    ),
    # Moodle XML and QTI
    "not_tcexam": (
        "Akar XML bukan <tcexamquestions>; ini bukan ekspor soal TCExam.",
        "The XML root is not <tcexamquestions>; this is not a TCExam question export.",
    ),
    "tcexam_disabled": (
        "Soal ini nonaktif di TCExam dan tidak diimpor.",
        "This question is disabled in TCExam and was not imported.",
    ),
    "not_moodle": (
        "Akar XML bukan <quiz>; ini bukan berkas Moodle XML.",
        "The XML root is not <quiz>; this is not a Moodle XML file.",
    ),
    "not_qti": (
        "Berkas ini bukan soal QTI 2.x (akar XML <{root}>).",
        "This is not a QTI 2.x item (XML root <{root}>).",
    ),
    "qti_no_interaction": (
        "Soal QTI tidak punya choiceInteraction.",
        "The QTI item has no choiceInteraction.",
    ),
    "qti_many_interactions": (
        "Soal QTI punya {count} interaksi; hanya satu choiceInteraction yang didukung.",
        "The QTI item has {count} interactions; only one choiceInteraction is supported.",
    ),
    "qti_no_key": (
        "Soal QTI tidak punya correctResponse maupun mapping.",
        "The QTI item has neither a correctResponse nor a mapping.",
    ),
    "qti_rp_unsupported": (
        "Pengolahan jawaban QTI '{template}' tidak didukung (hanya match_correct dan map_response).",
        "QTI response processing '{template}' is not supported (only match_correct and map_response).",
    ),
    "qti_missing_file": (
        "Berkas '{name}' yang dirujuk tidak ada di paket.",
        "The referenced file '{name}' is not in the package.",
    ),
    "archive_too_large": (
        "Berkas terkompresi terlalu besar setelah dibuka ({declared} byte; paling banyak {limit}).",
        "The compressed file is too large once opened ({declared} bytes; at most {limit}).",
    ),
    "bad_zip": (
        "Paket zip tidak dapat dibuka: {detail_id}.",
        "The zip package cannot be opened: {detail_en}.",
    ),
    "wrong_container": (
        "Berkas ini {what_id}, bukan berkas soal; {fix_id}.",
        "This file is {what_en}, not a question file; {fix_en}.",
    ),
    "bad_fraction": (
        "Nilai fraction '{value}' bukan angka.",
        "The fraction '{value}' is not a number.",
    ),
    # Images
    "image_type": (
        "Gambar '{name}' bukan PNG, JPEG, GIF atau WebP.",
        "Image '{name}' is not a PNG, JPEG, GIF or WebP.",
    ),
    "image_too_big": (
        "Gambar '{name}' terlalu besar ({size} byte; maksimum {limit}).",
        "Image '{name}' is too big ({size} bytes; the limit is {limit}).",
    ),
    "image_missing": (
        "Gambar '{name}' dirujuk tetapi tidak ada di berkas; soal tanpa gambarnya tidak diimpor.",
        "Image '{name}' is referenced but not in the file; the question is not imported without it.",
    ),
    "image_source": (
        "Gambar '{name}' tidak ikut di berkas (tautan http atau data:); lampirkan gambarnya di paket QTI atau Moodle XML.",
        "Image '{name}' does not travel in the file (an http or data: link); attach it in a QTI or Moodle XML package.",
    ),
    "media_unsupported": (
        "Soal ini memakai '{name}' (audio, video atau objek, bukan gambar PNG/JPEG/GIF/WebP) yang tidak dapat ditampilkan ke peserta.",
        "This question uses '{name}' (audio, video or an object, not a PNG/JPEG/GIF/WebP image), which cannot be shown to candidates.",
    ),
    "media_dropped": (
        "Berkas '{name}' terlampir tetapi tidak dipakai di soal; tidak disertakan.",
        "The file '{name}' is attached but not used in the question; it was left out.",
    ),
    "internal": (
        "Kesalahan tak terduga saat membaca berkas: {detail}.",
        "Unexpected error while reading the file: {detail}.",
    ),
}


def message(code: str, **fields: object) -> tuple[str, str]:
    indonesian, english = MESSAGES[code]
    return indonesian.format(**fields), english.format(**fields)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem in an imported file, located by line (text formats) or item (XML)."""

    line: int | None
    item: str | None
    message_id: str
    message_en: str
    code: str = ""
    file: str | None = None  # the file inside a package (QTI zip) the problem is in
    sheet: str | None = None  # the worksheet of an XLSX workbook

    @property
    def message(self) -> str:
        return self.message_id

    @classmethod
    def of(
        cls,
        code: str,
        *,
        line: int | None = None,
        item: str | None = None,
        file: str | None = None,
        sheet: str | None = None,
        **fields: object,
    ) -> ImportProblem:
        return cls.found((code, fields), line=line, item=item, file=file, sheet=sheet)

    @classmethod
    def found(
        cls,
        finding: tuple[str, Mapping[str, object]],
        *,
        line: int | None = None,
        item: str | None = None,
        file: str | None = None,
        sheet: str | None = None,
    ) -> ImportProblem:
        """The problem a reader's finding (code, message fields) describes."""
        code, fields = finding
        indonesian, english = message(code, **fields)
        # The messages name the part of a package too, so every screen that shows line,
        # item and message tells the user which file inside the zip or workbook to fix.
        if sheet:
            indonesian, english = f"Lembar '{sheet}': {indonesian}", f"Sheet '{sheet}': {english}"
        if file:
            indonesian, english = f"Berkas {file}: {indonesian}", f"File {file}: {english}"
        return cls(
            line=line,
            item=item,
            message_id=indonesian,
            message_en=english,
            code=code,
            file=file,
            sheet=sheet,
        )

    def where(self) -> str:
        if self.line is not None:
            return f"baris {self.line}"
        if self.item:
            return f"soal {self.item}"
        return "berkas"


@dataclass(slots=True)
class ImportReport:
    """The outcome of reading one file; ``items`` is empty unless ``ok``."""

    items: list[Item] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    duplicates: int = 0  # duplicates within the file (each is also an error)
    warnings: list[ImportProblem] = field(default_factory=list)  # imported anyway
    skipped: list[ImportProblem] = field(default_factory=list)  # unsupported, dropped on request
    fmt: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors
