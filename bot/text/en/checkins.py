"""Check-ins: codes, outcomes, locations (the student's and the classroom's)."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "checkin.ask_code": (
        "Send me the code your teacher shows (6 letters and digits, like K7M2QX)."
    ),
    "checkin.the_session": "the session",
    "checkin.recorded": "✅ Checked in to <b>{title}</b> at {at}.",
    "checkin.recorded_late": "✅ Checked in to <b>{title}</b> at {at} (late).",
    "checkin.duplicate": "You are already checked in to <b>{title}</b> (since {at}).",
    "checkin.closed": "<b>{title}</b> is closed: check-in is no longer possible.",
    "checkin.expired_code": "This code has expired. Use the code your teacher shows now.",
    "checkin.not_enrolled": (
        "You are not enrolled in the course of <b>{title}</b>. "
        "Ask your teacher for the course code and send /join CODE first."
    ),
    "checkin.locked_out": "Too many wrong codes. Please wait 10 minutes before trying again.",
    "checkin.needs_location": (
        "<b>{title}</b> checks where you are: tap <i>Share my location</i> below "
        "(from your phone) to finish checking in."
    ),
    "checkin.location_outside": (
        "You seem to be about {distance} m from the classroom, too far to check "
        "in to <b>{title}</b>. Nothing was recorded."
    ),
    "checkin.location_refused": (
        "That location can't be used: share your current location from your phone "
        "(not a forwarded or old one)."
    ),
    "checkin.location_not_ready": (
        "Your teacher hasn't shared the classroom location yet. Try again in a minute."
    ),
    "checkin.invalid_code": "That code is not valid. Check it and try again.",
    "checkin.code_leaked_tip": (
        "\n\nTip: send codes to me here, not in the group: everyone in the group can read them."
    ),
    "checkin.waiting_for_location": (
        "I'm waiting for a location: tap <i>Share my location</i> below (from your phone)."
    ),
    "checkin.location_not_ready_kept": (
        "Your teacher hasn't shared the classroom location yet, so I can't check where you "
        "are. Your code is kept for a few minutes: share your location again in a moment."
    ),
    "checkin.classroom_location_missing": (
        "\n\nNote: your teacher hasn't shared the classroom location yet. Your code is kept "
        "for a few minutes: if I say the location is missing, share yours again in a moment."
    ),
    # The classroom location, shared by the teacher.
    "location.share_button": "Share my location",
    "location.ask_teacher": (
        "This session checks students' locations: share yours now (tap the button below) so I "
        "know where the classroom is."
    ),
    "location.ask_teacher_again": (
        "Share where the classroom is now (tap the button below, from your phone). You can do "
        "this again at any time during the session."
    ),
    "location.set": "Classroom location saved. Students within range can check in now.",
    "location.prompt_sent": ("I've sent you a button to share the location, in our private chat."),
    "location.not_a_geo_session": "This session doesn't check locations.",
}
