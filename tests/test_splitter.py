from hypothesis import given, settings, strategies as st

from qa.converters.formats import make_article
from qa.preprocessors.sentences import sentence_at, sentence_spans
from qa.preprocessors.splitter import PassageSplitter
from qa.readers.extractive import load_tokenizer
from qa.resources import reader_path


def tokenizer():
    return load_tokenizer(reader_path())


def test_passages_cover_article_with_overlap(seed_dir):
    from qa.converters import convert_paths

    art = convert_paths([seed_dir]).articles[0]
    sp = PassageSplitter(max_tokens=60, tokenizer=tokenizer())
    ps = sp.run(art)
    assert len(ps) > 3
    for p in ps:
        assert art.text[p.start:p.end] == p.text
        assert len(tokenizer()(p.text, add_special_tokens=False)["input_ids"]) <= 60
    for a, b in zip(ps, ps[1:]):
        if len(sentence_spans(a.text)) > 1:
            assert b.start < a.end, "consecutive passages share a sentence"
    covered = set()
    for p in ps:
        covered.update(range(p.start, p.end))
    words = [i for i, ch in enumerate(art.text) if not ch.isspace()]
    assert all(i in covered for i in words)


def test_sentences():
    t = "Mr. Smith went to Washington. He met Dr. Jones! Then? \"Yes,\" she said.\nNew line here"
    spans = [t[a:b] for a, b in sentence_spans(t)]
    assert spans[0] == "Mr. Smith went to Washington."
    assert spans[1] == "He met Dr. Jones!"
    assert spans[-1] == "New line here"
    i = t.index("Jones")
    a, b = sentence_at(t, i, i + 5)
    assert t[a:b] == "He met Dr. Jones!"


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400)


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=1, max_size=40), body=TEXT, data=st.data())
def test_offsets_property(title, body, data):
    """Any span of any passage maps back to exactly the same article text."""
    from qa.errors import NewsdeskError  # noqa: F401
    try:
        art = make_article(title, body, "x.txt")
    except ValueError:
        return
    ps = PassageSplitter(max_tokens=data.draw(st.integers(8, 64)), tokenizer=tokenizer()).run(art)
    for p in ps:
        assert art.text[p.start:p.end] == p.text
        if len(p.text) > 0:
            a = data.draw(st.integers(0, len(p.text) - 1))
            b = data.draw(st.integers(a + 1, len(p.text)))
            # The reader reports spans in passage coordinates; the answer builder adds p.start.
            assert art.text[p.start + a:p.start + b] == p.text[a:b]
