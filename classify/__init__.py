"""Topic classification, legal-change detection and development grouping (see classify/README.md).

CLASSIFIER_VERSION goes into tags.classifier_version / change_signals.classifier_version and into
articles.classified_hash; bump it whenever patterns, prototypes, the trained head or the
legal-change rules change, so stored classifications are redone.
"""
CLASSIFIER_VERSION = "topics-2025.10"

__all__ = ["CLASSIFIER_VERSION"]
