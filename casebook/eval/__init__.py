"""`casebook eval`: retrieval, answer and related-posts quality on judged data, with baselines."""
