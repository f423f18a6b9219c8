"""Error codes and their messages, in Bahasa Indonesia first and English.

The code is the contract (clients switch on it); the message is for the person in front
of the screen, in their language.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # login
    "bad_credentials": (
        "Nomor peserta atau kata sandi salah.",
        "Wrong participant number or password.",
    ),
    "too_many_attempts": (
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 15 menit atau hubungi panitia.",
        "Too many failed log-in attempts. Try again in 15 minutes or ask the committee.",
    ),
    "not_scheduled_now": (
        "Anda tidak terjadwal ujian pada saat ini. Periksa jadwal pada kartu peserta Anda.",
        "You are not scheduled for a test now. Check the schedule on your participant card.",
    ),
    "bad_session_token": (
        "Token sesi salah atau sudah berganti. Tanyakan token terbaru kepada pengawas.",
        "The session token is wrong or has changed. Ask the proctor for the current token.",
    ),
    "already_submitted": (
        "Ujian Anda sudah dikumpulkan. Anda tidak dapat masuk lagi.",
        "Your test has already been submitted. You cannot log in again.",
    ),
    "exam_not_ready": (
        "Soal ujian ini belum lengkap disiapkan panitia. Beri tahu pengawas; jawaban belum ada yang hilang.",
        "The committee has not finished preparing this test's questions. Tell the proctor; nothing is lost.",
    ),
    "bad_request": ("Permintaan tidak valid.", "Invalid request."),
    "too_large": (
        "Permintaan terlalu besar.",
        "The request is too large.",
    ),
    # delivery
    "bad_token": (
        "Sesi masuk tidak valid. Silakan masuk kembali.",
        "Your log-in is not valid. Please log in again.",
    ),
    "expired_token": (
        "Sesi masuk sudah kedaluwarsa. Silakan masuk kembali.",
        "Your log-in has expired. Please log in again.",
    ),
    "bad_message": (
        "Pesan tidak dikenali; jawaban Anda tidak berubah.",
        "Message not understood; your answers are unchanged.",
    ),
    "time_over": (
        "Waktu ujian sudah habis. Jawaban Anda telah dikumpulkan.",
        "Time is over. Your answers have been submitted.",
    ),
    "replaced": (
        "Ujian Anda dibuka di perangkat lain. Halaman ini tidak lagi menyimpan jawaban.",
        "Your test was opened on another device. This page no longer saves answers.",
    ),
    "not_running": (
        "Soal hanya dapat dibuka saat ujian berjalan.",
        "Questions can only be opened while the test is running.",
    ),
    "submitted": (
        "Ujian sudah dikumpulkan; perubahan tidak disimpan.",
        "The test has been submitted; changes are not saved.",
    ),
    "not_started": ("Ujian belum dimulai.", "The test has not started yet."),
    "paused": (
        "Ujian sedang dijeda oleh panitia; tunggu sebentar.",
        "The test is paused by the committee; please wait.",
    ),
    "out_of_order": (
        "Ada perubahan yang belum diterima server; kirim ulang dari nomor yang diminta.",
        "A change is missing on the server; resend from the requested number.",
    ),
    "hello_required": (
        "Sambungan harus diawali dengan salam (hello).",
        "A connection must start with hello.",
    ),
    "busy": (
        "Antrean masuk: server sedang melayani banyak peserta. Halaman mencoba lagi "
        "otomatis sebentar lagi; tidak ada jawaban yang hilang.",
        "In the queue: the server is serving many candidates. The page tries again "
        "automatically shortly; no answer is lost.",
    ),
    "server_busy": (
        "Server sedang sibuk; jawaban Anda tetap tersimpan di perangkat dan akan dikirim ulang.",
        "The server is busy; your answers stay on this device and will be resent.",
    ),
}


def message(code: str, lang: str = "id") -> str:
    id_text, en_text = MESSAGES.get(code, (code, code))
    return en_text if lang == "en" else id_text


def error_body(code: str, lang: str = "id") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message(code, lang)}}
