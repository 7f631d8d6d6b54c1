"""`linker cache move`: move the global cache to another folder (rename, or copy + verify + delete), journaled
and resumable, then relink every known project's view (plan.py, journal.py, copy.py, relink.py, run.py)."""

from .plan import COPY, RENAME, MovePlan, plan_move
from .run import MoveResult, move_cache

__all__ = ["COPY", "RENAME", "MovePlan", "MoveResult", "move_cache", "plan_move"]
