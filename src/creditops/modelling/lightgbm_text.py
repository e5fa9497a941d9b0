"""LightGBM text models read only when whole: a truncated file aborts the process inside LightGBM.

LightGBM's loader ends the process (SIGABRT) on a model cut inside a tree, so no Python error can be
caught. Its header declares each tree's size in bytes (`tree_sizes=`); a file whose trees do not add
up to that, followed by `end of trees`, is refused before LightGBM sees it.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creditops.errors import CreditopsError

_TREE_SIZES = re.compile(rb"^tree_sizes=(.*)$", re.MULTILINE)
_END_OF_TREES = b"end of trees"


def problem(text: bytes) -> str | None:
    """Why `text` is not a whole LightGBM text model, or None when its trees add up."""
    first_tree = text.find(b"\nTree=")
    if not text.startswith(b"tree\n") or first_tree < 0:
        return "it is not a LightGBM text model (no 'tree' header or no trees)"
    declared = _TREE_SIZES.search(text, 0, first_tree)
    if declared is None:
        return "its header declares no tree sizes"
    try:
        sizes = [int(size) for size in declared.group(1).split()]
    except ValueError:
        return "its header's tree sizes are not numbers"
    end = first_tree + 1 + sum(sizes)
    if not text[end:].startswith(_END_OF_TREES):
        return f"its {len(sizes)} trees do not add up to the sizes its header declares: the file is cut or edited"
    return None


def checked_bytes(path: Path, check: Callable[[bytes], str | None]) -> bytes:
    """The model file's bytes once `check` finds no problem in them (a learner's own structural check, made
    before its library parses them); an unreadable or damaged file is one line."""
    try:
        text = Path(path).read_bytes()
    except OSError as error:
        raise CreditopsError(f"cannot read the model file {path}: {error.strerror or error}") from error
    found = check(text)
    if found is not None:
        raise CreditopsError(f"model file {path} cannot be loaded: {found}; register or save the model again")
    return text


def read_booster(path: Path) -> Any:
    """The LightGBM booster in `path`, after checking the file is whole; a bad file is one line."""
    import lightgbm as lgb

    text = checked_bytes(path, problem)
    try:
        return lgb.Booster(model_str=text.decode("utf-8"))
    except (lgb.basic.LightGBMError, UnicodeDecodeError) as error:
        raise CreditopsError(f"model file {path} cannot be loaded: {str(error).splitlines()[0]}") from error
