"""Early warnings (issue 13, item 6): an alert when a student misses N sessions in a row,
and a weekly digest to each teacher.

Every process runs these jobs; each alert and each digest leaves once because it is claimed
first in PostgreSQL (a row keyed by course, student and the streak's first session; a row
keyed by teacher and ISO week), with a lease a dead sender's successor can take over.
"""

from __future__ import annotations

import logging
from datetime import timedelta, tzinfo

from services.clock import Clock
from services.course_admin import active
from services.delivery import DeliveryFailed
from services.ports import CourseRecords, GradingRecords, UserRecords, WarningRecords
from services.ports.grading import (
    AbsenceAlert,
    AbsenceStreak,
    AlertSender,
    AlertTo,
    Digest,
    DigestCourse,
)
from services.reports import ReportService

log = logging.getLogger(__name__)

#: The digest is due from Monday at this hour (the installation's zone) each ISO week.
DIGEST_HOUR = 8
#: A student is at risk below the warning level once this many sessions counted.
AT_RISK_AFTER = 3
#: A session's turnout is unusually low this many points under the course's mean...
LOW_TURNOUT_POINTS = 15
#: ...when the course has at least this many sessions to compare with.
LOW_TURNOUT_AFTER = 3


class EarlyWarnings:
    """Finds absence streaks and due digests, and sends each once across processes."""

    def __init__(
        self,
        *,
        warnings: WarningRecords,
        courses: CourseRecords,
        grading: GradingRecords,
        users: UserRecords,
        reports: ReportService,
        clock: Clock,
        zone: tzinfo,
        lease_seconds: float = 60.0,
    ) -> None:
        self._warnings = warnings
        self._courses = courses
        self._grading = grading
        self._users = users
        self._reports = reports
        self._clock = clock
        self._zone = zone
        self._lease = timedelta(seconds=lease_seconds)

    async def send_absence_alerts(self, sender: AlertSender) -> int:
        """Alert each streak that reached its course's limit and was not alerted yet (to the
        student, the teacher or both, as the course says; not to who switched alerts off).
        Returns how many streaks were alerted by this call."""
        alerted = 0
        for streak in await self._warnings.absence_streaks():
            now = self._clock.now()
            if not await self._warnings.claim_absence_alert(
                streak, now=now, until=now + self._lease
            ):
                continue
            await self._alert(streak, sender)
            await self._warnings.absence_alert_sent(streak, now=self._clock.now())
            alerted += 1
        return alerted

    async def _alert(self, streak: AbsenceStreak, sender: AlertSender) -> None:
        course = await self._courses.course(streak.course_id)
        if course is None:
            return
        policy = await self._grading.grading_policy(course.id)
        recipients: list[int] = []
        if policy.alert_to in (AlertTo.STUDENT, AlertTo.BOTH):
            recipients.append(streak.student_id)
        if policy.alert_to in (AlertTo.TEACHER, AlertTo.BOTH):
            recipients.append(course.teacher_id)
        wanted = await self._warnings.alerts_wanted(recipients)
        profile = await self._users.load_profile(streak.student_id)
        name = profile.display_name if profile else str(streak.student_id)
        for recipient in recipients:
            if recipient not in wanted:
                continue
            alert = AbsenceAlert(
                recipient,
                course.name,
                streak.absences,
                None if recipient == streak.student_id else name,
            )
            try:
                await sender.send_absence_alert(alert)
            except DeliveryFailed as failed:  # sent at most once: logged, not retried
                log.warning("absence alert to %s not delivered: %s", recipient, failed.reason)

    def week_due(self) -> str | None:
        """The ISO week (`2026-W49`) whose digest is due now, or None before Monday's hour."""
        local = self._clock.now().astimezone(self._zone)
        year, week, weekday = local.isocalendar()
        if weekday == 1 and local.hour < DIGEST_HOUR:
            return None
        return f"{year}-W{week:02d}"

    async def send_weekly_digests(self, sender: AlertSender) -> int:
        """Send each teacher (of an active course, alerts on) this week's digest, once per
        teacher and week whatever the number of processes. Returns how many were sent."""
        week = self.week_due()
        if week is None:
            return 0
        teachers = await self._warnings.digest_teachers()
        wanted = await self._warnings.alerts_wanted(teachers)
        sent = 0
        for teacher in teachers:
            if teacher not in wanted:
                continue
            now = self._clock.now()
            if not await self._warnings.claim_digest(
                teacher, week=week, now=now, until=now + self._lease
            ):
                continue
            digest = await self.digest(teacher, week)
            try:
                await sender.send_digest(digest)
                sent += 1
            except DeliveryFailed as failed:
                if not failed.permanent:  # let another run (after the lease) try again
                    log.info("digest to %s postponed: %s", teacher, failed.reason)
                    continue
                log.warning("digest to %s not delivered: %s", teacher, failed.reason)
            await self._warnings.digest_sent(teacher, week=week, now=self._clock.now())
        return sent

    async def digest(self, teacher_id: int, week: str) -> Digest:
        """The teacher's digest: per active course they own, who is at risk (below the
        warning level after 3 sessions), who never claimed their seat, and last week's
        sessions with unusually low turnout (15 points under the course's mean rate)."""
        since = self._clock.now() - timedelta(days=7)
        parts = []
        for course in active(await self._courses.teacher_courses(teacher_id)):
            if course.teacher_id != teacher_id:
                continue
            report = await self._reports.report_for(course)
            at_risk = [
                (s.name, round(s.percent))
                for s in report.standings
                if s.enrolled
                and s.sessions - s.excused >= AT_RISK_AFTER
                and s.percent < course.warn_below_percent
            ]
            rated = [r for r in report.sessions if r.counted > 0]
            low = []
            if len(rated) >= LOW_TURNOUT_AFTER:
                mean = sum(r.percent for r in rated) / len(rated)
                low = [
                    (r.started_at, r.title, round(r.percent))
                    for r in rated
                    if r.started_at >= since and r.percent < mean - LOW_TURNOUT_POINTS
                ]
            unclaimed = [p.full_name for p in report.unclaimed]
            parts.append(DigestCourse(course.name, at_risk, unclaimed, low, course.time_zone))
        return Digest(teacher_id, week, parts)
