"""Fine-tuning in plain PyTorch: one readable recipe (recipe.py: setup -> fit -> validate -> save) and the
small pieces it stands on.

    schedule.py     learning-rate schedules (wsd, cosine, linear, constant) as LambdaLR multipliers
    batching.py     seeded per-epoch order, dynamic padding, (epoch, batch index) positions
    model_setup.py  loading the base model and wrapping it for a method (LoRA, DoRA, QLoRA, full, IA3, prefix)
    loss.py         loss on the labelled positions only; validation loss; greedy sample answers
    checkpoints.py  atomic checkpoints, resume, keep-N pruning, the best copy
    resume.py       resuming from the newest checkpoint that loads; damaged ones are set aside
    control.py      pause / resume / cancel from stdin, the run's control file and signals
    callbacks.py    how the trainer reports: the JSON-lines writer and the console line are two callbacks
    prepare.py      the run's data split (stored once), encoding, counting
    clock.py        training time across resumes and pauses, tokens/s, ETA
    power.py        keeping the computer awake while training; pausing on a low battery until plugged in
    resources.py    memory readings; the out-of-memory and method-unavailable errors and their hints
    write_guard.py  saves into a run folder that was deleted, filled up or made read-only: clear errors
    distributed.py  data parallel over processes: rank, sharded batches, sums over ranks, control broadcast
    launcher.py     accelerate's launcher and the accelerate.yaml it is given (several processes; FSDP settings)
    console.py      the CLI's live progress line (a callback over the worker's events)

Nothing here imports Qt; torch and transformers are imported by the modules that need them.
"""
