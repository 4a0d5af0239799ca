"""Every text of every shipped language reads as that language to a real language detector
(lingua, built for the shipped languages only), so nothing falls back to English unseen: a key
left untranslated, or pasted from the English, is caught here. Placeholders and markup are
taken out first; a few texts too short to tell are allowed by name."""

from __future__ import annotations

import re
from functools import cache

import pytest
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from messages.content_check import texts_of
from messages.loader import load_content

SHIPPED = {
    "en": Language.ENGLISH,
    "de": Language.GERMAN,
    "fr": Language.FRENCH,
    "es": Language.SPANISH,
}
# Texts too short to tell, or made of a word several languages share ("Pause", "Feedback"),
# each allowed by what it says in that language. A text with no letters (an example like
# "09:00-17:00", a lone placeholder) says nothing about its language and is not asked.
TOO_SHORT_TO_TELL = {
    "en": {"Cancel", "Pause", "Formal", "mon-fri"},
    "de": {"Feedback", "mo-fr"},
    "fr": {"Formel", "lun-ven"},
    "es": {"Mes", "Feedback", "lun-vie"},
}
MARKUP = re.compile(r"\{[a-z_]+\}|<[^>]*>|[*_`•]|/notpromoted|https?://\S+")


@cache
def detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*SHIPPED.values()).build()


def words_of(text: str) -> str:
    return " ".join(MARKUP.sub(" ", text).split())


@pytest.mark.parametrize("locale", sorted(SHIPPED))
@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_every_text_reads_as_its_language(locale: str, platform: str) -> None:
    texts = load_content().locales[locale][platform]
    allowed = TOO_SHORT_TO_TELL[locale]
    misread = {}
    for key, text in texts_of(texts):
        words = words_of(text)
        if words in allowed or not any(c.isalpha() for c in words):
            continue
        found = detector().detect_language_of(words)
        if found != SHIPPED[locale]:
            misread[key] = (found.name if found else "nothing", text[:80])
    assert misread == {}


def test_an_english_text_left_in_a_translation_is_caught() -> None:
    english = load_content().locales["en"]["slack"]
    text = english.stages["reframe"].body
    assert detector().detect_language_of(words_of(text)) == Language.ENGLISH
    assert detector().detect_language_of(words_of(text)) != SHIPPED["de"]


def test_the_allow_list_holds_only_single_words_the_content_uses() -> None:
    content = load_content()
    for locale, allowed in TOO_SHORT_TO_TELL.items():
        used = {words_of(text) for _, text in texts_of(content.locales[locale]["slack"])}
        assert all(" " not in text and text in used for text in allowed), locale
