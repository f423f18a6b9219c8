"""The audit log reads as sentences a committee member understands: values as
``key: value`` lines, times in local time with their zone, never raw JSON in UTC; and it
can be searched (docs/committee.md, "The audit log")."""

from __future__ import annotations

import secrets

from results.builders import build_exam


async def test_the_audit_log_shows_local_labelled_times_and_searches(
    db_engine, panitia, admin
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    name = f"Sesi Audit {secrets.token_hex(3)}"
    resp = await panitia.post(
        "/panitia/sesi",
        {
            "exam_id": str(built.exam_id),
            "name": name,
            "date": "2026-12-07",
            "start": "08:00",
            "end": "10:00",
            "token_minutes": "15",
            "time_zone": "Asia/Jakarta",
        },
    )
    assert resp.status_code == 303
    page = await admin.get("/panitia/audit", params={"q": panitia.username})
    assert page.status_code == 200
    row = page.text.split(name)[0].rsplit("<tr>", 1)[1] + page.text.split(name)[1].split("</tr>")[0]
    assert "starts_at: 07-12-2026 08:00 WIB" in row
    assert "+00:00" not in row and '{"' not in row and "&#34;" not in row
    assert "token_required: tidak" in row
    other = await admin.get(
        "/panitia/audit", params={"q": "no-such-person-" + secrets.token_hex(4)}
    )
    assert name not in other.text
