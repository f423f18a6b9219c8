"""The demo exam's questions: original items in the style of TWK, TIU and TKP.

Written for this project (no copied try-out banks); they exist so that anyone can take a
complete exam a minute after cloning. TKP items carry a weight of 1 to 5 on every option.
"""

from __future__ import annotations

from question_bank.items import Item, ItemKind, Option


def _mc(section: str, category: str, stem: str, options: list[str], key: int) -> Item:
    return Item(
        kind=ItemKind.SINGLE,
        stem_html=f"<p>{stem}</p>",
        options=tuple(
            Option(id="ABCDE"[i], html=text, score=1.0 if i == key else 0.0)
            for i, text in enumerate(options)
        ),
        section=section,
        category=category,
    )


def _tkp(category: str, stem: str, weighted: list[tuple[str, int]]) -> Item:
    return Item(
        kind=ItemKind.SINGLE,
        stem_html=f"<p>{stem}</p>",
        options=tuple(
            Option(id="ABCDE"[i], html=text, score=float(w)) for i, (text, w) in enumerate(weighted)
        ),
        section="TKP",
        category=category,
        weighted=True,
    )


DEMO_ITEMS: list[Item] = [
    _mc(
        "TWK",
        "Pancasila",
        "Sila keempat Pancasila menekankan pengambilan keputusan melalui ...",
        [
            "perintah pemimpin",
            "musyawarah untuk mufakat",
            "suara terbanyak saja",
            "undian",
            "keputusan hakim",
        ],
        1,
    ),
    _mc(
        "TWK",
        "UUD 1945",
        "Lembaga yang berwenang mengubah dan menetapkan Undang-Undang Dasar adalah ...",
        ["DPR", "Presiden", "MPR", "Mahkamah Konstitusi", "DPD"],
        2,
    ),
    _mc(
        "TWK",
        "Bhinneka Tunggal Ika",
        "Semboyan Bhinneka Tunggal Ika diambil dari kitab ...",
        ["Negarakertagama", "Sutasoma", "Pararaton", "Arjunawiwaha", "Bharatayudha"],
        1,
    ),
    _mc(
        "TWK",
        "Sejarah",
        "Naskah Proklamasi Kemerdekaan Indonesia diketik oleh ...",
        ["Sukarni", "Sayuti Melik", "Ahmad Soebardjo", "B.M. Diah", "Chaerul Saleh"],
        1,
    ),
    _mc(
        "TWK",
        "Integritas",
        "Seorang pegawai menerima hadiah dari pihak yang sedang mengurus izin di kantornya. Sikap yang tepat adalah ...",
        [
            "menerimanya karena sopan santun",
            "menolak dan melaporkannya sesuai aturan gratifikasi",
            "menerima lalu membagikan kepada rekan",
            "menerima jika nilainya kecil",
            "menunda jawaban sampai izin selesai",
        ],
        1,
    ),
    _mc(
        "TIU", "Numerik", "Jika 3x + 7 = 25, maka nilai x adalah ...", ["4", "5", "6", "7", "8"], 2
    ),
    _mc(
        "TIU",
        "Deret",
        "Lanjutkan deret berikut: 2, 6, 12, 20, 30, ...",
        ["40", "42", "44", "36", "48"],
        1,
    ),
    _mc(
        "TIU",
        "Verbal",
        "GURU : SEKOLAH = DOKTER : ...",
        ["obat", "pasien", "rumah sakit", "perawat", "resep"],
        2,
    ),
    _mc(
        "TIU",
        "Logika",
        "Semua pegawai hadir tepat waktu. Sebagian pegawai adalah pengawas ujian. Kesimpulan yang pasti benar adalah ...",
        [
            "semua pengawas ujian hadir tepat waktu",
            "sebagian pengawas ujian terlambat",
            "semua yang hadir tepat waktu adalah pegawai",
            "tidak ada pengawas ujian yang hadir",
            "sebagian pegawai tidak hadir",
        ],
        0,
    ),
    _mc(
        "TIU",
        "Numerik",
        "Sebuah barang seharga Rp80.000 didiskon 15%. Harga setelah diskon adalah ...",
        ["Rp65.000", "Rp68.000", "Rp70.000", "Rp72.000", "Rp12.000"],
        1,
    ),
    _tkp(
        "Pelayanan publik",
        "Seorang warga datang lima menit sebelum loket tutup dengan berkas yang belum lengkap. Anda ...",
        [
            ("menolak karena loket hampir tutup", 1),
            ("meminta warga kembali besok tanpa penjelasan", 2),
            ("menjelaskan kekurangan berkas dan cara melengkapinya", 4),
            (
                "memeriksa berkas, menjelaskan kekurangannya, dan mencatat agar besok dapat dilayani lebih dulu",
                5,
            ),
            ("menerima berkas apa adanya", 3),
        ],
    ),
    _tkp(
        "Jejaring kerja",
        "Anda ditugaskan dalam tim dengan rekan dari dinas lain yang belum Anda kenal. Anda ...",
        [
            ("bekerja sendiri agar cepat", 1),
            ("menunggu rekan lain memulai komunikasi", 2),
            ("memperkenalkan diri dan mengajak menyusun pembagian tugas", 5),
            ("mengikuti saja keputusan ketua tim", 3),
            ("berkenalan seperlunya saat rapat", 4),
        ],
    ),
    _tkp(
        "Profesionalisme",
        "Atasan memberi tugas mendesak ketika pekerjaan Anda yang lain juga hampir tenggat. Anda ...",
        [
            ("mengerjakan yang paling mudah dahulu", 2),
            ("menyampaikan kondisi kepada atasan dan menyusun prioritas bersama", 5),
            ("mengerjakan keduanya sekaligus tanpa memberi tahu", 3),
            ("menolak tugas baru", 1),
            ("meminta rekan mengerjakan tugas lama", 4),
        ],
    ),
    _tkp(
        "Teknologi informasi",
        "Kantor Anda mulai memakai aplikasi persuratan elektronik. Anda ...",
        [
            ("tetap memakai surat kertas", 1),
            ("menunggu pelatihan resmi", 3),
            ("mempelajari panduannya dan membantu rekan yang kesulitan", 5),
            ("memakai seperlunya saja", 2),
            ("mempelajarinya sendiri", 4),
        ],
    ),
    _tkp(
        "Anti radikalisme",
        "Di grup percakapan kantor beredar pesan yang menghasut kebencian terhadap kelompok tertentu. Anda ...",
        [
            ("ikut meneruskan pesan itu", 1),
            ("diam saja", 2),
            ("keluar dari grup", 3),
            ("mengingatkan anggota grup agar tidak menyebarkannya", 4),
            ("mengingatkan anggota grup dan melaporkannya kepada pihak berwenang", 5),
        ],
    ),
]
