"""`linker migrate`: legacy model folders into the Hugging Face cache layout, losing nothing.

sources (what is there, checked as untrusted) -> hashing -> revision (which commit, and why) -> planner (plain
data) -> executor (rename / copy+verify / hardlink under huggingface_hub's blob locks), with a journal that
`recover.recover` uses to finish an interrupted run; `commit.apply_plan` applies a plan.
"""
