"""helpers.text (the pydoc corpus, truncated-BPTT chunks), the character language model and
its training loop."""

import math

import numpy as np
import pytest
import torch

from helpers import models, text, training


def test_pydoc_text_is_english_documentation_and_fixed():
    doc = text.pydoc_text()
    assert len(doc) > 100_000 and "assert" in doc and doc == text.pydoc_text()


def test_char_corpus_encodes_splits_and_decodes():
    corpus = text.char_corpus("hello world, hello text" * 10, valid_fraction=0.25)
    assert corpus.chars == tuple(sorted(set("hello world, hello text")))
    whole = torch.cat([corpus.train, corpus.valid])
    assert corpus.decode(whole) == "hello world, hello text" * 10
    assert len(corpus.valid) == int(230 * 0.25) and corpus.train.dtype == torch.long
    counts = np.bincount(corpus.train.numpy(), minlength=corpus.vocab_size)
    p = counts[counts > 0] / counts.sum()
    assert math.isclose(corpus.unigram_entropy(), float(-(p * np.log(p)).sum()), rel_tol=1e-12)


def test_tbptt_chunks_continue_each_other():
    ids = torch.arange(1000)
    batches = text.tbptt_batches(ids, batch_size=4, chunk=7, offset=3)
    (x1, y1), (x2, _) = next(batches), next(batches)
    assert x1.shape == y1.shape == (7, 4)
    torch.testing.assert_close(y1, x1 + 1)  # the target is the next character
    torch.testing.assert_close(x2[0], x1[-1] + 1)  # the next chunk continues the stream
    assert int(x1[0, 0]) == 3 and len(set((x1[0, 1:] - x1[0, :-1]).tolist())) == 1


def test_tbptt_batches_refuse_bad_arguments():
    with pytest.raises(ValueError, match="too little text"):
        next(text.tbptt_batches(torch.arange(20), batch_size=4, chunk=10))
    with pytest.raises(ValueError, match="1-D"):
        next(text.tbptt_batches(torch.zeros(3, 3, dtype=torch.long), 1, 1))
    with pytest.raises(ValueError, match="valid_fraction"):
        text.char_corpus("abcdef", valid_fraction=1.5)


@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
def test_language_model_carries_its_state_across_chunks(cell):
    torch.manual_seed(0)
    model = models.CharLanguageModel(11, 8, cell=cell)
    ids = torch.randint(0, 11, (12, 3))
    whole, _ = model(ids)
    first, state = model(ids[:5])
    second, _ = model(ids[5:], state)
    assert whole.shape == (12, 3, 11)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    with pytest.raises(ValueError, match="int64"):
        model(ids.float())


def test_train_tbptt_learns_truncates_and_logs_the_norm_before_clipping():
    corpus = text.char_corpus("abcd" * 400)
    torch.manual_seed(0)
    model = models.CharLanguageModel(corpus.vocab_size, 16)
    seen = []
    original = model.forward

    def forward(ids, state=None):
        seen.append(state is not None and state.requires_grad)
        return original(ids, state)

    model.forward = forward
    calls = []

    def schedule(opt):
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda i: calls.append(i) or 1.0)

    history = training.train_tbptt(
        model,
        text.tbptt_batches(corpus.train, 8, 10),
        steps=60,
        lr=0.5,
        optimizer="adam",
        max_norm=1e-3,
        schedule=schedule,
        progress=False,
    )
    assert not any(seen)  # every state arrives detached
    assert len(history.losses) == 60 and len(calls) == 61  # LambdaLR calls once when built
    assert max(history.grad_norms) > 1e-3  # logged before clipping
    model.forward = original
    before = history.losses[0]
    history = training.train_tbptt(
        model,
        text.tbptt_batches(corpus.train, 8, 10),
        steps=60,
        lr=0.05,
        optimizer="adam",
        progress=False,
    )
    assert history.losses[-1] < 0.1 * before  # "abcd" repeated is predictable
    assert training.language_model_loss(model, corpus.valid, batch_size=4, chunk=7) < 0.1


def test_language_model_loss_is_the_mean_cross_entropy():
    torch.manual_seed(0)
    model = models.CharLanguageModel(5, 4, cell="lstm")
    ids = torch.randint(0, 5, (41,))
    logits, _ = model(ids[:40].view(2, 20).T)
    targets = ids[1:41].view(2, 20).T
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 5), targets.reshape(-1))
    got = training.language_model_loss(model, ids, batch_size=2, chunk=6)
    assert math.isclose(got, float(expected.detach()), rel_tol=1e-5)
