"""Pure statistics of human judgments (no Django): Bradley-Terry ratings, correlation, sampling, agreement."""
