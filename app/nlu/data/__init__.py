"""Package data of the NLU: lexicons, the jieba domain dictionary and the training split."""
