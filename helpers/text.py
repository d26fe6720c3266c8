"""Real text for a character-level language model: the documentation every Python carries.

`pydoc_data.topics` (the text behind `help("assert")` and friends) is part of the standard
library, so nothing is downloaded. `char_corpus()` encodes it as character ids and splits it
into a training and a validation part; `tbptt_batches` cuts the training ids into the
consecutive chunks that truncated backpropagation through time trains on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from helpers._validate import positive_int


def pydoc_text() -> str:
    """The standard library's help topics (pydoc_data.topics), joined in a fixed order."""
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


@dataclass(frozen=True)
class CharCorpus:
    """A text as character ids. chars[i] is the character of id i; train and valid are 1-D
    int64 tensors of ids (the first and the last part of the text)."""

    chars: tuple[str, ...]
    train: torch.Tensor
    valid: torch.Tensor

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def decode(self, ids: torch.Tensor) -> str:
        """The text of a 1-D tensor of ids."""
        return "".join(self.chars[int(i)] for i in ids)

    def unigram_entropy(self) -> float:
        """Cross-entropy (nats per character) of predicting every character from the training
        part's character frequencies alone: the loss of a model that ignores the context."""
        counts = torch.bincount(self.train, minlength=self.vocab_size).double()
        p = counts[counts > 0] / counts.sum()
        return float(-(p * p.log()).sum())


def char_corpus(text: str | None = None, valid_fraction: float = 0.1) -> CharCorpus:
    """Encode `text` (default: `pydoc_text()`) as ids over its sorted set of characters; the
    last `valid_fraction` of it is the validation part."""
    text = pydoc_text() if text is None else text
    if not isinstance(text, str) or len(text) < 4:
        raise ValueError("text must be a string of at least 4 characters")
    if not (isinstance(valid_fraction, float) and 0.0 < valid_fraction < 1.0):
        raise ValueError(f"valid_fraction must be a float in (0, 1), got {valid_fraction!r}")
    chars = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = len(ids) - max(2, int(len(ids) * valid_fraction))
    return CharCorpus(chars, ids[:split], ids[split:])


def tbptt_batches(
    ids: torch.Tensor, batch_size: int, chunk: int, offset: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (inputs, targets) chunks for truncated BPTT, each (chunk, batch_size) int64.

    The ids are cut into batch_size parallel streams (column b is one contiguous stretch of
    text) after skipping the first `offset` ids; chunk i holds steps i*chunk .. (i+1)*chunk - 1
    of every stream and the targets are the next characters, so the hidden state at the end of
    one chunk is the right start for the next. At the end of the streams it starts over.
    """
    batch_size = positive_int("batch_size", batch_size)
    chunk = positive_int("chunk", chunk)
    offset = positive_int("offset", offset, minimum=0)
    if ids.dim() != 1:
        raise ValueError(f"ids must be a 1-D tensor of character ids, got shape {tuple(ids.shape)}")
    length = (len(ids) - offset - 1) // batch_size
    if length < chunk + 1:
        raise ValueError(
            f"too little text for {batch_size} streams of chunks of {chunk}: "
            f"{len(ids) - offset} ids after the offset"
        )
    inputs = ids[offset : offset + length * batch_size].view(batch_size, length).T
    targets = ids[offset + 1 : offset + 1 + length * batch_size].view(batch_size, length).T
    chunks = math.floor(length / chunk)
    while True:
        for i in range(chunks):
            yield inputs[i * chunk : (i + 1) * chunk], targets[i * chunk : (i + 1) * chunk]
