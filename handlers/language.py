"""The language a person reads me in: shown and chosen with the `language` word or on the
Home's form, or left to their platform (Slack's locale, the one Teams sends). A choice changes
what comes next; nothing already sent is rewritten."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core import ids
from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from handlers.form_specs import LANGUAGE
from handlers.locale_lookup import person_locale
from handlers.neutral_messages import plain
from handlers.replies import CommandReply
from messages.content import Content, LocaleContent
from messages.form import Choice, Form, draw
from messages.formatting import language_name, name_in, plain_word
from messages.model import Button

# The form's choice (and what a person may type) for "follow my platform's language".
AUTOMATIC = "auto"


def listing(content: Content) -> str:
    """Every language there is a folder for, each by its own name: "Deutsch, English, …"."""
    return ", ".join(sorted(language_name(folder) for folder in content.locales))


def folder_named(content: Content, wanted: str) -> str | None:
    """The folder a person means: a tag ("de", "es-MX") or a language's own name ("Español",
    "espanol"); None if no folder fits."""
    folder = content.folder_for(wanted)
    if folder is not None:
        return folder
    typed = plain_word(wanted)
    for name in content.locales:
        if typed in {plain_word(language_name(name)), plain_word(name_in(name, "en"))}:
            return name
    return None


def show(services: Services, ref: PersonRef) -> CommandReply:
    """`language`: the one I write in, the others, and the form that changes it."""
    locale = person_locale(services, ref)
    text = locale.text(
        "language_now",
        language=name_in(locale.locale, locale.locale),
        languages=listing(services.content),
    )
    change = Button(ids.OPEN_LANGUAGE_FORM, locale.text("home_button_language"), "language")
    return CommandReply(replace(plain(locale, services.settings, text), buttons=(change,)))


@dataclass(frozen=True)
class LanguageResult:
    """The language now in force, and the sentence that says so; or an error, in the old."""

    locale: LocaleContent
    text: str
    error: str | None = None


def set_language(services: Services, ref: PersonRef, wanted: str) -> LanguageResult:
    """Keep the person's choice ("auto" to follow their platform again). The answer is in the
    language chosen: it is the first thing they read in it."""
    wanted = wanted.strip()
    automatic = plain_word(wanted) == AUTOMATIC
    folder = None if automatic else folder_named(services.content, wanted)
    with services.sessions.begin() as session:
        if folder is None and not automatic:  # nothing is kept of a choice that is none
            known = people.find_person(session, ref=ref)
            tag = known.preferred_locale if known else None
            locale = services.content.for_locale(tag, ref.platform)
            error = locale.text(
                "language_bad", text=wanted[:40], languages=listing(services.content)
            )
            return LanguageResult(locale=locale, text=error, error=error)
        person = people.get_or_create_person(session, ref=ref, now=services.clock())
        person.language = folder
        session.add(person)
        locale = services.content.for_locale(person.preferred_locale, ref.platform)
    key = "language_automatic_set" if automatic else "language_set"
    return LanguageResult(locale=locale, text=locale.text(key))


def choose(services: Services, ref: PersonRef, wanted: str) -> CommandReply:
    """`language de`: the choice kept, said in the new language (or why it could not be)."""
    result = set_language(services, ref, wanted)
    return CommandReply(plain(result.locale, services.settings, result.text))


def form(services: Services, ref: PersonRef) -> Form:
    """The Home's form: "as my app settings", then each language by its own name."""
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        chosen = person.language if person else None
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
    drawn = draw(LANGUAGE, locale, values={"language": chosen or AUTOMATIC})
    choices = (
        Choice(AUTOMATIC, locale.text("language_form_automatic")),
        *(
            Choice(name, language_name(name))
            for name in sorted(services.content.locales, key=language_name)
        ),
    )
    return replace(drawn, fields=(replace(drawn.fields[0], choices=choices),))
