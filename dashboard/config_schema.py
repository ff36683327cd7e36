"""Config schema for [dashboard] in settings.toml."""
from lawwatch.schema import Field, Table

DASHBOARD = Table({
    "timezone": Field(str, "Asia/Bishkek", help="all dates are shown in this timezone"),
    "editor_tokens_env": Field(str, "LAWWATCH_EDITOR_TOKENS",
                               help="env var with comma-separated editor tokens (name:token)"),
    "page_size": Field(int, 50),
}, default=dict)
