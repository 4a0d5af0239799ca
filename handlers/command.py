"""Route the text after `/notpromoted` (untrusted input) to a handler."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from handlers import journey_controls, language, locale_lookup
from handlers.neutral_messages import help_message
from handlers.replies import CommandReply
from handlers.start import start_or_resume

HOURS_WORD = "hours"
LANGUAGE_WORD = "language"
# The commands that keep a person the bot did not know (every other one leaves no trace of
# someone unknown): starting, and setting their hours or language.
KEEPS_THE_PERSON = frozenset({"start", HOURS_WORD, LANGUAGE_WORD})
Handler = Callable[[Services, PersonRef], CommandReply]


def _help(services: Services, ref: PersonRef) -> CommandReply:
    locale = locale_lookup.person_locale(services, ref)
    return CommandReply(help_message(locale, services.settings))


SUBCOMMANDS: dict[str, Handler] = {
    "": start_or_resume,
    "start": start_or_resume,
    "help": _help,
    "status": journey_controls.status,
    "pause": journey_controls.pause,
    "resume": journey_controls.resume,
    "stop": journey_controls.stop,
    "forget": journey_controls.request_forget,
    "goals": journey_controls.open_goals,
    "export": journey_controls.export,
}


def run_command(services: Services, ref: PersonRef, text: str) -> CommandReply:
    """The command a word names, in English or in any language's own words ("stand")."""
    word, _, rest = text.strip().partition(" ")
    command = services.content.command_for(word) if word else ""
    rest = rest.strip()
    if command == HOURS_WORD:
        return journey_controls.working_hours(services, ref, rest)
    if command == LANGUAGE_WORD:
        return language.choose(services, ref, rest) if rest else language.show(services, ref)
    handler = SUBCOMMANDS.get(command) if command is not None and not rest else None
    if handler is not None:
        return handler(services, ref)
    locale = locale_lookup.person_locale(services, ref)
    return CommandReply(help_message(locale, services.settings, unknown_text=text.strip()))
