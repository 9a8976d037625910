"""Replies about importing a roster and claiming a place on it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies.format import fit, more
from bot.replies.general import prompt
from bot.telegram_limits import ShortList
from bot.text import Named, Text, constants, t
from services.models import Course
from services.places import ClaimRequest, ClaimResult, Place
from services.roster import Claim, Decision, RosterImport
from services.roster_file import Rejected

#: Rejected lines listed in the chat; beyond, they come as a CSV file too.
REJECTS_SHOWN = 30

CONSTANTS: dict[str, Named] = {
    "ROSTER_WHICH_COURSE": "roster.which_course",
    "ROSTER_DOCUMENT_HINT": "roster.document_hint",
    "ROSTER_FILE_KIND": "roster.file_kind",
    "ROSTER_NO_COURSES": "roster.no_courses",
    "ROSTER_FILE_GONE": "roster.file_gone",
    "ROSTER_DOWNLOAD_FAILED": "roster.download_failed",
    "ROSTER_REQUEST_DECIDED": "roster.request_decided",
}
__getattr__ = constants(CONSTANTS)


def importing(course: Course) -> Text:
    return t("roster.importing", course=course.name)


def rejected_line(rejected: Rejected, *, html: bool = True) -> str:
    return t(
        f"roster.reject.{rejected.reason.value}",
        line=rejected.line,
        detail=rejected.detail,
        html=html,
    )


def import_report(result: RosterImport) -> Text:
    """Counts, the rejected lines (the first ones; all of them in the file), next steps."""
    rejected = result.file.rejected
    blocks: list[str | ShortList] = [
        t(
            "roster.imported",
            course=result.course.name,
            added=result.added,
            already=result.already_there,
            rejected=len(rejected),
        )
    ]
    if result.linked:
        blocks.append(t("roster.linked", count=result.linked))
    if rejected:
        blocks.append(
            ShortList(
                t("roster.rejected_heading"),
                [rejected_line(r) for r in rejected],
                separator="\n",
                more=more("roster.rejected_more"),
                cap=REJECTS_SHOWN,
            )
        )
    blocks.append(t("roster.next_steps", code=result.course.join_code))
    return fit(blocks)


def rejected_csv(rejected: Sequence[Rejected]) -> bytes:
    """Every rejected line with its reason (plain text: no cell of it is user input)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t("roster.csv.line", html=False), t("roster.csv.reason", html=False)])
    for r in rejected:
        writer.writerow([r.line, rejected_line(r, html=False)])
    return out.getvalue().encode("utf-8-sig")


def ask_number(course: Course) -> Text:
    return prompt(t("roster.ask_number", course=course.name))


def claim_result(claim: Claim) -> Text:
    if claim.result is ClaimResult.CLAIMED and claim.place is not None:
        return t(
            "roster.claimed",
            course=claim.course.name,
            name=claim.place.full_name,
            number=claim.place.student_number,
        )
    assert claim.request is not None
    return t(
        "roster.sent_to_teacher", course=claim.course.name, number=claim.request.student_number
    )


def claim_request(
    request: ClaimRequest, course: Course, student: str, result: ClaimResult, language: str
) -> Text:
    """The teacher's question (in the teacher's language)."""
    key = "roster.request_taken" if result is ClaimResult.TAKEN else "roster.request_no_place"
    return t(
        key, student=student, course=course.name, number=request.student_number, language=language
    )


def claim_buttons(request_id: int, language: str) -> InlineKeyboardMarkup:
    """Approve / Decline under a claim (the request's id is checked again on the server)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("roster.approve_button", html=False, language=language),
                    callback_data=f"rq:a:{request_id}",
                ),
                InlineKeyboardButton(
                    t("roster.decline_button", html=False, language=language),
                    callback_data=f"rq:d:{request_id}",
                ),
            ]
        ]
    )


def decision(result: Decision, student: str) -> Text:
    if not result.approved:
        return t("roster.declined", student=student, course=result.course.name)
    if result.place is not None:
        return t(
            "roster.approved_place",
            student=student,
            course=result.course.name,
            name=result.place.full_name,
            number=result.place.student_number,
        )
    return t("roster.approved", student=student, course=result.course.name)


def decision_notice(result: Decision, language: str) -> Text:
    """The student's answer (in the student's language)."""
    key = "roster.approved_notice" if result.approved else "roster.declined_notice"
    return t(key, course=result.course.name, language=language)


def unclaimed_list(places: Sequence[Place]) -> ShortList:
    """Who never claimed their place, for /report."""
    return ShortList(
        t("roster.unclaimed", count=len(places)),
        [t("roster.unclaimed_item", name=p.full_name, number=p.student_number) for p in places],
        more=more("roster.unclaimed_more"),
        cap=40,
    )


def mydata_places(places: Sequence[tuple[str, Place]]) -> list[Text]:
    return [
        t("roster.mydata_place", course=name, name=p.full_name, number=p.student_number)
        for name, p in places
    ]
