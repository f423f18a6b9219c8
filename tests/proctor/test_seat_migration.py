"""Migration 0014 numbers the seats of rows that existed before it, in seating order."""

from __future__ import annotations

import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exam_server.db.engine import sync_url, upgrade


def test_existing_seatings_get_seats_in_the_order_they_were_made(database_url: str) -> None:
    name = f"tkd_seats_{secrets.token_hex(3)}"
    admin = create_engine(sync_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, "0005")
        engine = create_engine(sync_url(url))
        with engine.begin() as db:
            exam = db.execute(
                text(
                    "INSERT INTO exams (code, title, shuffle_questions, "
                    "shuffle_options, results_release, rules_id, rules_en) "
                    "VALUES ('X', 'X', true, true, 'immediate', '', '') RETURNING id"
                )
            ).scalar()
            sessions = [
                db.execute(
                    text(
                        "INSERT INTO exam_sessions (exam_id, name, room, starts_at, ends_at, token_required, "
                        "token_period_s) VALUES (:e, :n, '', now(), now() + interval '1 hour', false, 900) "
                        "RETURNING id"
                    ),
                    {"e": exam, "n": n},
                ).scalar()
                for n in ("a", "b")
            ]
            for i in range(5):
                cand = db.execute(
                    text(
                        "INSERT INTO candidates (nik, name, unit, phone, email, photo, participant_no, "
                        "password_hash) VALUES (:nik, 'x', '', '', '', '', :no, 'x') RETURNING id"
                    ),
                    {"nik": f"{i:016d}", "no": f"S-{i}"},
                ).scalar()
                db.execute(
                    text(
                        "INSERT INTO session_candidates (session_id, candidate_id) VALUES (:s, :c)"
                    ),
                    {"s": sessions[i % 2], "c": cand},
                )
        upgrade(url)
        with engine.begin() as db:
            seats = db.execute(
                text("SELECT session_id, seat FROM session_candidates ORDER BY id")
            ).all()
            assert seats == [
                (sessions[0], 1),
                (sessions[1], 1),
                (sessions[0], 2),
                (sessions[1], 2),
                (sessions[0], 3),
            ]
            cand = db.execute(
                text(
                    "INSERT INTO candidates (nik, name, unit, phone, email, photo, participant_no, "
                    "password_hash) VALUES ('9999999999999999', 'x', '', '', '', '', 'S-9', 'x') "
                    "RETURNING id"
                )
            ).scalar()
            seat = db.execute(
                text(
                    "INSERT INTO session_candidates (session_id, candidate_id) "
                    "VALUES (:s, :c) RETURNING seat"
                ),
                {"s": sessions[1], "c": cand},
            ).scalar()
            assert seat == 3  # after the migration, the trigger gives the next one
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
