"""Model windows of a whole training set, packed into flat numpy arrays.

Python lists of token ids cost ~40 bytes a token; a campaign over all of
SQuAD (~130k windows of up to 256 tokens) would need several GB that way.
Packed as int32/int8 arrays with offsets it takes ~150 MB. Offsets into the
context are not kept: training needs only ids, segment ids and labels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from qa.readers.spans import encode_windows, label_window


@dataclass
class PackedFeatures:
    ids: np.ndarray  # int32, every window's tokens one after another
    types: np.ndarray  # int8, token type ids, same layout
    bounds: np.ndarray  # int64, window i is ids[bounds[i]:bounds[i + 1]]
    starts: np.ndarray  # int32 start label (0 = [CLS], no answer in this window)
    ends: np.ndarray  # int32 end label
    kinds: np.ndarray  # int16, the kind index of the pair the window came from

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def lengths(self) -> list[int]:
        return np.diff(self.bounds).tolist()

    def batch(self, idx, pad_id: int = 0) -> dict[str, np.ndarray]:
        """Inputs and labels for windows ``idx``, padded to the longest of them."""
        n = max(int(self.bounds[i + 1] - self.bounds[i]) for i in idx)
        ids = np.full((len(idx), n), pad_id, dtype=np.int64)
        tt = np.zeros((len(idx), n), dtype=np.int64)
        mask = np.zeros((len(idx), n), dtype=np.int64)
        for j, i in enumerate(idx):
            a, b = self.bounds[i], self.bounds[i + 1]
            ids[j, : b - a] = self.ids[a:b]
            tt[j, : b - a] = self.types[a:b]
            mask[j, : b - a] = 1
        return {
            "input_ids": ids,
            "token_type_ids": tt,
            "attention_mask": mask,
            "start_positions": self.starts[list(idx)].astype(np.int64),
            "end_positions": self.ends[list(idx)].astype(np.int64),
        }

    def fingerprint(self) -> str:
        """Hash of every window and label: a resumed run checks it trains on the same data."""
        h = hashlib.sha256()
        for arr in (self.bounds, self.ids, self.starts, self.ends):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]


def pack_features(tokenizer, examples, kinds, max_length: int, stride: int, chunk: int = 2000) -> PackedFeatures:
    """Windows of ``examples`` with start/end labels; no-answer windows point at [CLS] (0)."""
    ids, types, lengths, starts, ends, wkinds = [], [], [], [], [], []
    for lo in range(0, len(examples), chunk):
        part = examples[lo : lo + chunk]
        for w in encode_windows(tokenizer, [e.question for e in part], [e.context for e in part], max_length, stride):
            ex = part[w.context_index]
            if ex.answer_start is None:
                s, e = 0, 0
            else:
                s, e = label_window(w, ex.answer_start, ex.answer_start + len(ex.answer_text))
            ids.append(np.asarray(w.input_ids, dtype=np.int32))
            types.append(np.asarray(w.token_type_ids, dtype=np.int8))
            lengths.append(len(w.input_ids))
            starts.append(s)
            ends.append(e)
            wkinds.append(kinds[lo + w.context_index])
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum(lengths)
    return PackedFeatures(
        np.concatenate(ids) if ids else np.zeros(0, np.int32),
        np.concatenate(types) if types else np.zeros(0, np.int8),
        bounds,
        np.asarray(starts, np.int32),
        np.asarray(ends, np.int32),
        np.asarray(wkinds, np.int16),
    )
