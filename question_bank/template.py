"""The spreadsheet template a committee fills in: its columns, and the files we ship.

``template-soal.csv`` and ``template-soal.xlsx`` in ``question_bank/templates`` are written
by ``write_templates`` (``python -m question_bank.template``); a test checks that the
shipped files are what this module writes, and that they import cleanly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

OPTION_LETTERS = "abcde"
COLUMNS: tuple[str, ...] = (
    "no",
    "seksi",
    "kategori",
    "tipe",
    "soal",
    *(f"opsi_{x}" for x in OPTION_LETTERS),
    "kunci",
    *(f"bobot_{x}" for x in OPTION_LETTERS),
    "opsi_tetap",
    "tingkat_kesulitan",
    "tag",
    "id_eksternal",
)

TEMPLATE_DIR = Path(__file__).with_name("templates")

# Three worked examples, the same ones docs/question-bank.md explains.
EXAMPLES: tuple[dict[str, str], ...] = (
    {
        "no": "1",
        "seksi": "TWK",
        "kategori": "Pancasila",
        "tipe": "pg",
        "soal": "Sila keempat Pancasila menekankan pengambilan keputusan melalui ...",
        "opsi_a": "perintah pemimpin",
        "opsi_b": "musyawarah untuk mufakat",
        "opsi_c": "suara terbanyak saja",
        "opsi_d": "undian",
        "opsi_e": "keputusan hakim",
        "kunci": "B",
        "tingkat_kesulitan": "mudah",
        "tag": "pancasila, sila 4",
        "id_eksternal": "TWK-001",
    },
    {
        "no": "2",
        "seksi": "TKP",
        "kategori": "Pelayanan publik",
        "tipe": "bobot",
        "soal": "Seorang warga datang lima menit sebelum loket tutup dengan berkas yang belum lengkap. Anda ...",
        "opsi_a": "menolak karena loket hampir tutup",
        "opsi_b": "meminta warga kembali besok tanpa penjelasan",
        "opsi_c": "menjelaskan kekurangan berkas dan cara melengkapinya",
        "opsi_d": "memeriksa berkas, menjelaskan kekurangannya, dan mencatat agar besok dapat dilayani lebih dulu",
        "opsi_e": "menyerahkan kepada rekan tanpa penjelasan",
        "bobot_a": "1",
        "bobot_b": "2",
        "bobot_c": "4",
        "bobot_d": "5",
        "bobot_e": "3",
        "tingkat_kesulitan": "0.5",
        "tag": "pelayanan",
        "id_eksternal": "TKP-001",
    },
    {
        "no": "3",
        "seksi": "TIU",
        "kategori": "Numerik",
        "tipe": "pgk",
        "soal": "Manakah bilangan prima di bawah ini?",
        "opsi_a": "2",
        "opsi_b": "9",
        "opsi_c": "11",
        "opsi_d": "15",
        "opsi_e": "21",
        "kunci": "A, C",
        "tingkat_kesulitan": "sedang",
        "id_eksternal": "TIU-001",
    },
)

INSTRUCTIONS: tuple[tuple[str, str], ...] = (
    ("no", "Nomor urut soal (untuk pesan kesalahan); boleh kosong."),
    ("seksi", "Kode seksi: TWK, TIU atau TKP."),
    ("kategori", "Subtes atau materi, misalnya Pancasila, Numerik, Pelayanan publik."),
    (
        "tipe",
        "pg = satu jawaban benar; pgk = beberapa jawaban benar; bs = benar/salah; "
        "bobot = setiap opsi bernilai (TKP, misalnya 1 sampai 5).",
    ),
    ("soal", "Teks soal. Teks biasa; tag HTML sederhana (<b>, <sub>, <sup>, <br>) boleh."),
    (
        "opsi_a .. opsi_e",
        "Teks opsi jawaban. Soal boleh punya 2 sampai 5 opsi; bs boleh kosong (Benar/Salah).",
    ),
    (
        "kunci",
        "Huruf jawaban benar: B; untuk pgk beberapa huruf: A, C; untuk bs: benar atau salah. "
        "Kosong untuk tipe bobot.",
    ),
    (
        "bobot_a .. bobot_e",
        "Tipe bobot: nilai setiap opsi (1 sampai 5). Tipe pg/pgk: boleh diisi persen "
        "nilai opsi (misalnya -25 untuk pengurangan nilai); biasanya kosong.",
    ),
    ("opsi_tetap", "Huruf opsi yang tidak ikut diacak, misalnya E untuk 'semua benar'."),
    ("tingkat_kesulitan", "Angka 0 (mudah) sampai 1 (sulit), atau mudah / sedang / sulit."),
    ("tag", "Label bebas dipisahkan koma."),
    ("id_eksternal", "Kode soal dari panitia atau sistem lain; boleh kosong."),
)


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in EXAMPLES:
        writer.writerow(row)
    # A BOM so that Excel opens the file as UTF-8 (our reader ignores it).
    return out.getvalue().encode("utf-8-sig")


def write_template_xlsx(path: str | Path) -> None:
    """The XLSX template: a ``soal`` sheet with the columns and examples, and instructions."""
    from openpyxl import Workbook  # heavy: only writing the template needs it
    from openpyxl.styles import Alignment, Font  # heavy: as above

    book = Workbook()
    sheet = book.active
    sheet.title = "soal"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in EXAMPLES:
        sheet.append([row.get(column, "") or None for column in COLUMNS])
    sheet.freeze_panes = "A2"
    for letter, width in {"E": 60, "F": 30, "G": 30, "H": 30, "I": 30, "J": 30}.items():
        sheet.column_dimensions[letter].width = width
    guide = book.create_sheet("petunjuk")
    guide.append(["kolom", "cara mengisi"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column, text in INSTRUCTIONS:
        guide.append([column, text])
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 100
    for row in guide.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True)
    # A fixed timestamp keeps the shipped file byte-stable between runs.
    stamp = dt.datetime(2025, 1, 1)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.save(path)


def write_templates(folder: Path = TEMPLATE_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "template-soal.csv").write_bytes(template_csv())
    write_template_xlsx(folder / "template-soal.xlsx")


if __name__ == "__main__":
    write_templates(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE_DIR)
