"""The loaders `linker scan` recognises, as data: which calls name a Hub repo, in which argument, of which type.

A finder matches a call by its name: the function (`pipeline(...)`, `hub.snapshot_download(...)`) or the method
(`AutoModel.from_pretrained(...)`, any receiver). Adding a loader is adding a row to FINDERS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Arg:
    """Where a call passes a repo id: positional index (None: keyword only) and keyword names."""

    pos: int | None
    keywords: tuple[str, ...]
    required: bool = True  # a non-literal value is reported as dynamic (else only literal strings count)


@dataclass(frozen=True)
class Finder:
    loader: str  # how the report names the loader
    names: frozenset[str]  # the called name: a function's, or a method's after the dot
    ids: tuple[Arg, ...]
    repo_type: str | None = "model"  # None: the call's `repo_type=` keyword (default model)
    method_only: bool = False  # only `x.NAME(...)`, never a bare `NAME(...)`
    receiver: re.Pattern[str] | None = None  # for a method: the receiver's last name must match
    prefix: str | None = None  # the id is a string starting with this (`hf-hub:`), which is removed
    dynamic_receivers: frozenset[str] | None = None  # with `prefix`: report non-literals only on `timm.f(...)`
    default_when_missing: bool = False  # no id at all means the library picks one (pipeline's task default)
    bare_org: str | None = None  # a name without '/' means `<bare_org>/<name>` ...
    bare_kept: frozenset[str] = frozenset()  # ... except these (lowercased), kept as they are
    not_ids: frozenset[str] = frozenset()  # names that are the library's own, not Hub repos


#: sentence-transformers keeps these organisation-less names as they are (its `basic_transformer_models`).
ST_BASIC_MODELS = frozenset(
    {
        "albert-base-v1",
        "albert-base-v2",
        "albert-large-v1",
        "albert-large-v2",
        "albert-xlarge-v1",
        "albert-xlarge-v2",
        "albert-xxlarge-v1",
        "albert-xxlarge-v2",
        "bert-base-cased-finetuned-mrpc",
        "bert-base-cased",
        "bert-base-chinese",
        "bert-base-german-cased",
        "bert-base-german-dbmdz-cased",
        "bert-base-german-dbmdz-uncased",
        "bert-base-multilingual-cased",
        "bert-base-multilingual-uncased",
        "bert-base-uncased",
        "bert-large-cased-whole-word-masking-finetuned-squad",
        "bert-large-cased-whole-word-masking",
        "bert-large-cased",
        "bert-large-uncased-whole-word-masking-finetuned-squad",
        "bert-large-uncased-whole-word-masking",
        "bert-large-uncased",
        "camembert-base",
        "ctrl",
        "distilbert-base-cased-distilled-squad",
        "distilbert-base-cased",
        "distilbert-base-german-cased",
        "distilbert-base-multilingual-cased",
        "distilbert-base-uncased-distilled-squad",
        "distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert-base-uncased",
        "distilgpt2",
        "distilroberta-base",
        "gpt2-large",
        "gpt2-medium",
        "gpt2-xl",
        "gpt2",
        "openai-gpt",
        "roberta-base-openai-detector",
        "roberta-base",
        "roberta-large-mnli",
        "roberta-large-openai-detector",
        "roberta-large",
        "t5-11b",
        "t5-3b",
        "t5-base",
        "t5-large",
        "t5-small",
        "transfo-xl-wt103",
        "xlm-clm-ende-1024",
        "xlm-clm-enfr-1024",
        "xlm-mlm-100-1280",
        "xlm-mlm-17-1280",
        "xlm-mlm-en-2048",
        "xlm-mlm-ende-1024",
        "xlm-mlm-enfr-1024",
        "xlm-mlm-enro-1024",
        "xlm-mlm-tlm-xnli15-1024",
        "xlm-mlm-xnli15-1024",
        "xlm-roberta-base",
        "xlm-roberta-large-finetuned-conll02-dutch",
        "xlm-roberta-large-finetuned-conll02-spanish",
        "xlm-roberta-large-finetuned-conll03-english",
        "xlm-roberta-large-finetuned-conll03-german",
        "xlm-roberta-large",
        "xlnet-base-cased",
        "xlnet-large-cased",
    }
)

#: `datasets.load_dataset` builders that read local or remote files, not a Hub dataset repo.
DATASET_BUILDERS = frozenset(
    {
        "arrow",
        "audiofolder",
        "conll",
        "csv",
        "eval",
        "fasta",
        "fastq",
        "genbank",
        "generator",
        "harbor",
        "hdf5",
        "iceberg",
        "imagefolder",
        "json",
        "lance",
        "meshfolder",
        "mmcif",
        "niftifolder",
        "pandas",
        "parquet",
        "pdb",
        "pdffolder",
        "spark",
        "sql",
        "text",
        "tsfile",
        "videofolder",
        "vortex",
        "webdataset",
        "xml",
    }
)

_ID = (Arg(0, ("pretrained_model_name_or_path",)),)
_HF_HUB = "hf-hub:"
_CLIP_NAMES = ("create_model", "create_model_and_transforms", "create_model_from_pretrained", "get_tokenizer")

FINDERS: tuple[Finder, ...] = (
    # peft: PeftModel.from_pretrained(base_model, "org/adapter") (AutoPeftModel* take the id first, as below)
    Finder(
        "from_pretrained",
        frozenset({"from_pretrained"}),
        (Arg(1, ("model_id",)),),
        method_only=True,
        receiver=re.compile(r"PeftModel(For\w+)?|PeftMixedModel"),
    ),
    # transformers (Auto*, model classes, tokenizers, processors), diffusers pipelines, and any other class
    Finder("from_pretrained", frozenset({"from_pretrained"}), _ID, method_only=True),
    Finder(
        "load_lora_weights",
        frozenset({"load_lora_weights"}),
        (Arg(0, ("pretrained_model_name_or_path_or_dict",)),),
        method_only=True,
    ),
    Finder("load_adapter", frozenset({"load_adapter"}), (Arg(0, ("peft_model_id",)),), method_only=True),
    Finder(
        "SentenceTransformer",
        frozenset({"SentenceTransformer", "SparseEncoder"}),
        (Arg(0, ("model_name_or_path",), required=False),),
        bare_org="sentence-transformers",
        bare_kept=ST_BASIC_MODELS,
    ),
    Finder("CrossEncoder", frozenset({"CrossEncoder"}), (Arg(0, ("model_name_or_path", "model_name")),)),
    Finder(
        "pipeline",
        frozenset({"pipeline"}),
        (
            Arg(1, ("model",)),
            Arg(None, ("tokenizer",), required=False),
            Arg(None, ("feature_extractor",), required=False),
            Arg(None, ("image_processor",), required=False),
            Arg(None, ("processor",), required=False),
        ),
        default_when_missing=True,
    ),
    Finder("hf_hub_download", frozenset({"hf_hub_download"}), (Arg(0, ("repo_id",)),), repo_type=None),
    Finder("snapshot_download", frozenset({"snapshot_download"}), (Arg(0, ("repo_id",)),), repo_type=None),
    Finder(
        "load_dataset",
        frozenset({"load_dataset"}),
        (Arg(0, ("path",)),),
        repo_type="dataset",
        not_ids=DATASET_BUILDERS,
    ),
    Finder(
        "create_model",
        frozenset(_CLIP_NAMES),
        (Arg(0, ("model_name",)),),
        prefix=_HF_HUB,
        dynamic_receivers=frozenset({"timm", "open_clip"}),
    ),
)

#: Every called name some finder matches: a file whose text contains none of them is not parsed at all.
TRIGGERS: tuple[str, ...] = tuple(sorted({n for f in FINDERS for n in f.names}))
_BY_NAME: dict[str, tuple[Finder, ...]] = {name: tuple(f for f in FINDERS if name in f.names) for name in TRIGGERS}


def finders_for(name: str) -> tuple[Finder, ...]:
    """The finders for a called name, most specific first."""
    return _BY_NAME.get(name, ())
