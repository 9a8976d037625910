"""The shape of one catalog entry: a sentence, or a sentence per plural form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plural:
    """A message with a form per CLDR plural category; `count` picks the form."""

    one: str
    other: str

    def form(self, count: int) -> str:
        return self.one if count == 1 else self.other


Message = str | Plural
