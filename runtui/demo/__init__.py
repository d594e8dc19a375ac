"""`runtui demo`: a store that looks like weeks of a team's work, built in seconds.

Three experiments (CIFAR-10, Finetune Bert-Large, GPT-2 distillation) with
sweeps, realistic curves, captured logs, failed, canceled and crashed runs,
training code that changes between runs, and two runs logging live. See
`build` for how it is put together.
"""
