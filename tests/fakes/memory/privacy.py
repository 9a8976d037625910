"""In-memory `PrivacyRecords`: personal data shown, pseudonymised, and aged out."""

from __future__ import annotations

from datetime import datetime

from services.models import CourseRole, PersonalData, UserProfile
from tests.fakes.memory.database import ForgottenRow, MemoryDatabase
from tests.fakes.memory.roster import add_stand_in_user, new_stand_in


class MemoryPrivacyRecords:
    """A person's own data, as storage/postgres/privacy.py handles it."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def personal_data(self, user_id: int) -> PersonalData:
        db = self._db
        db.check()
        return PersonalData(
            profile=db.users.get(user_id),
            courses=sorted(db.courses[c].name for c, s in db.enrolments if s == user_id),
            attendance_records=sum(1 for _, s in db.attendance if s == user_id),
            is_teacher=user_id in db.teachers,
            staff_of=sorted(
                (db.courses[c].name, CourseRole(row.role))
                for (c, u), row in db.course_staff.items()
                if u == user_id
            ),
            excuse_requests=sum(1 for r in db.excuse_requests.values() if r.student_id == user_id),
            preferences=db.user_preferences.get(user_id),
        )

    async def forget_user(self, user_id: int, *, pseudonym: int, now: datetime) -> None:
        """Records and audit rows move to the pseudonym; rosters, nudges, reachability and
        the profile go; the `teachers` row stays (the institution's record)."""
        db = self._db
        db.check()
        db.forgotten_users[user_id] = ForgottenRow(pseudonym, now)
        db.users.setdefault(pseudonym, UserProfile(user_id=pseudonym, first_name="Former student"))
        for sid, student in [key for key in db.attendance if key[1] == user_id]:
            db.attendance[(sid, pseudonym)] = db.attendance.pop((sid, student))
        for audit in db.attendance_audit.values():
            if audit.student_id == user_id:
                audit.student_id = pseudonym
        for request_id in [i for i, r in db.excuse_requests.items() if r.student_id == user_id]:
            del db.excuse_requests[request_id]
        for row in db.course_audit.values():  # the removed or leaving student, not staff
            if row.action in ("remove_student", "leave") and row.old_value == str(user_id):
                row.old_value = str(pseudonym)
            if row.action == "leave" and row.changed_by == user_id:
                row.changed_by = pseudonym
        for enrolment in [key for key in db.enrolments if key[1] == user_id]:
            del db.enrolments[enrolment]
        for nudge in [key for key in db.nudge_outbox if key[1] == user_id]:
            del db.nudge_outbox[nudge]
        for alert in [key for key in db.absence_alerts if key[1] == user_id]:
            del db.absence_alerts[alert]
        db.unreachable_users.pop(user_id, None)
        for staff in [key for key in db.course_staff if key[1] == user_id]:
            del db.course_staff[staff]
        for invite in db.course_staff_invites.values():
            if invite.used_by == user_id:
                invite.used_by = None
        db.user_preferences.pop(user_id, None)
        db.users.pop(user_id, None)
        for place in db.roster_places.values():  # RELEASE_PLACES: a fresh stand-in each
            if place.claimed_by == user_id:
                place.claimed_by, place.claimed_at, place.stand_in = None, None, new_stand_in()
                add_stand_in_user(db, place.stand_in, place)
        for request_id in [i for i, c in db.roster_claims.items() if c.student_id == user_id]:
            del db.roster_claims[request_id]

    async def delete_older_than(self, *, cutoff: datetime, forgotten_cutoff: datetime) -> int:
        """Sessions started before `cutoff` go with their records, outbox rows and nudges
        (ON DELETE CASCADE); old audit rows, pseudonym links, invitations and unused
        "Former student" rows go too. Returns the number of sessions deleted."""
        db = self._db
        db.check()
        old = {sid for sid, s in db.sessions.items() if s.started_at < cutoff}
        for sid in old:
            del db.sessions[sid]
            db.summary_outbox.pop(sid, None)
        for record in [key for key in db.attendance if key[0] in old]:
            del db.attendance[record]
        for nudge in [key for key in db.nudge_outbox if key[0] in old]:
            del db.nudge_outbox[nudge]
        for delivery in [i for i, r in db.webhook_outbox.items() if r.session_id in old]:
            del db.webhook_outbox[delivery]
        for audit_id in [i for i, a in db.attendance_audit.items() if a.changed_at < cutoff]:
            del db.attendance_audit[audit_id]
        for alert in [k for k, a in db.absence_alerts.items() if a.created_at < cutoff]:
            del db.absence_alerts[alert]
        for digest in [
            k
            for k, (until, _) in db.teacher_digests.items()
            if until is not None and until < cutoff
        ]:
            del db.teacher_digests[digest]
        for request_id in [
            i for i, r in db.excuse_requests.items() if r.target.started_at < cutoff
        ]:
            del db.excuse_requests[request_id]
        for audit_id in [i for i, a in db.course_audit.items() if a.changed_at < cutoff]:
            del db.course_audit[audit_id]
        for user_id in [
            u for u, f in db.forgotten_users.items() if f.forgotten_at < forgotten_cutoff
        ]:
            del db.forgotten_users[user_id]
        for token in [t for t, i in db.teacher_invites.items() if i.expires_at < cutoff]:
            del db.teacher_invites[token]
        for token in [t for t, i in db.course_staff_invites.items() if i.expires_at < cutoff]:
            del db.course_staff_invites[token]
        attended = {s for _, s in db.attendance}
        for place_id in [
            i
            for i, p in db.roster_places.items()
            if p.imported_at < cutoff and p.stand_in is not None and p.stand_in not in attended
        ]:
            del db.roster_places[place_id]
        for request_id in [i for i, c in db.roster_claims.items() if c.requested_at < cutoff]:
            del db.roster_claims[request_id]
        referenced = (
            {s for _, s in db.attendance}
            | {a.student_id for a in db.attendance_audit.values()}
            | {f.pseudonym for f in db.forgotten_users.values()}
            | {p.stand_in for p in db.roster_places.values() if p.stand_in is not None}
        )
        for user_id in [u for u in db.users if u < 0 and u not in referenced]:
            del db.users[user_id]
        return len(old)
