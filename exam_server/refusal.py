"""One bilingual refusal: what every store, form and command raises when it will not do a
thing, in Bahasa Indonesia and English. Pages show ``text(lang)``; ``tkd`` prints it in
``TKD_DEFAULT_LANG`` and exits 1. A refusal is raised before anything is changed, or inside
the transaction that it rolls back, so a refused change changes nothing.
"""

from __future__ import annotations


class Refusal(ValueError):
    def __init__(self, id_text: str, en_text: str) -> None:
        super().__init__(id_text)
        self.id_text, self.en_text = id_text, en_text

    def text(self, lang: str) -> str:
        return self.en_text if lang == "en" else self.id_text

    def __str__(self) -> str:
        return f"{self.id_text} / {self.en_text}"
