# %% [markdown]
"""Truncated BPTT: what ``truncate_gradient=k`` does to learning a dependency L steps long.

The task is a delayed echo: the input is a sequence of random bits and the target at step t is
the input bit L steps earlier, ``y_t = x_{t-L}`` (0 for the first L steps, where there is nothing
to recall yet). A SimpleRNN with ``return_sequences=True`` and a sigmoid ``Dense`` head is trained
with binary cross-entropy, always from the same seeded initial weights, with full BPTT and with
``truncate_gradient=k``.

With ``truncate_gradient=k`` the state carried into steps k, 2k, ... passes through
``stop_gradient``: the loss at step t reaches only the inputs of its own chunk, steps
``k * (t // k) .. t``. The input it depends on, ``x_{t-L}``, is in that chunk only when
``t % k >= L``: for no step at all when ``k <= L`` (the chunk must hold L + 1 steps), and for a
fraction of the steps when ``k > L``. The script prints the loss per epoch of each run and the
accuracy on held-out sequences: full BPTT and k > L learn the echo; k < L and k = L do not (near
chance in the default run; the shorter ``--quick`` training leaves k = L partly there). Without
a gradient linking a target to its input, a truncated run can only pick the echo up indirectly,
through weights shared by all steps and pushed by shorter in-chunk dependencies; and since the
truncated gradient is not the gradient of the loss, its loss need not keep falling.

Then the same truncated BPTT by hand: the sequences are cut into k-step chunks and fed, in order,
to a stateful copy of the model (batch size fixed by ``Input(batch_size=...)``), with the kept
states reset whenever a new batch of sequences starts. In float64, the gradient of one batch
summed over its chunks equals the gradient with ``truncate_gradient=k`` to rounding (the API's
promise for unmasked inputs), while full BPTT's differs. Trained with ``fit(shuffle=False)`` and
a callback that resets the states, the stateful model learns, or fails to, as
``truncate_gradient=k`` does, though not along the same curve: ``fit`` updates the weights after
every chunk, not once per batch of whole sequences.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/05_truncated_bptt.py [--quick]
"""

# %%
import argparse

import numpy as np

import minigrad as mg
import minigrad_layers as mgl

SEED = 1  # every model starts from the weights drawn after mg.random.seed(SEED)

# %% [markdown]
# ## The task: a delayed echo
# Random bits in, ``y_t = x_{t-L}`` out (0 for t < L); a SimpleRNN and a sigmoid head,
# trained with binary cross-entropy from the same seeded initial weights every time.


# %%
def echo_task(rng, n: int, steps: int, delay: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of random bits ``x (n, steps, 1)`` and ``y`` with ``y_t = x_{t-delay}``."""
    x = rng.integers(0, 2, size=(n, steps, 1)).astype(mg.floatx())  # (n, T, 1)
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]  # nothing to recall before step `delay`: target 0
    return x, y


def build_model(units: int, steps: int, batch_size=None, **rnn_kwargs) -> mgl.Sequential:
    """Input -> SimpleRNN(return_sequences) -> Dense(1, sigmoid), initial weights from SEED."""
    mg.random.seed(SEED)
    return mgl.Sequential(
        [
            mgl.Input((steps, 1), batch_size=batch_size),
            mgl.SimpleRNN(units, return_sequences=True, **rnn_kwargs),
            mgl.Dense(1, activation="sigmoid"),
        ]
    )


def compile_model(model: mgl.Sequential) -> None:
    # Clipping the global gradient norm (usual for RNNs) keeps a rare exploding step from
    # undoing what was learned.
    optimizer = mgl.optimizers.Adam(learning_rate=0.01, global_clipnorm=1.0)
    model.compile(optimizer=optimizer, loss="binary_crossentropy")


def recall_accuracy(model, x: np.ndarray, y: np.ndarray, delay: int) -> float:
    """The fraction of steps t >= delay where the thresholded output equals x_{t-delay}."""
    predicted = model.predict(x, batch_size=len(x))
    return float(((predicted[:, delay:] > 0.5) == y[:, delay:]).mean())


# %% [markdown]
# ## Which targets a truncated gradient can reach
# With ``truncate_gradient=k`` the loss at step t reaches the inputs of steps
# ``k * (t // k) .. t`` only, so it sees ``x_{t-L}`` exactly when ``t % k >= L``.


# %%
def reachable_fraction(k, steps: int, delay: int) -> float:
    """Of the steps t >= delay, the fraction whose x_{t-delay} is in t's chunk (t % k >= delay)."""
    t = np.arange(delay, steps)
    return 1.0 if k is None else float((t % k >= delay).mean())


# %% [markdown]
# ## Truncated BPTT by hand
# The sequences cut into k-step chunks, fed in order to a stateful model whose kept
# states are reset at the first chunk of every new batch of sequences.


# %%
def to_chunks(a: np.ndarray, batch: int, k: int) -> np.ndarray:
    """Reorder ``a (n, T, 1)`` into k-step chunks in the order a stateful layer must see them:
    for each group of ``batch`` sequences, chunk 0 of all of them, then chunk 1, ...
    """
    n, steps = a.shape[:2]
    chunks = a.reshape(n // batch, batch, steps // k, k, 1)  # (groups, B, C, k, 1)
    return chunks.transpose(0, 2, 1, 3, 4).reshape(-1, k, 1)  # (groups * C * B, k, 1)


class ResetStatesAtSequenceStart(mgl.callbacks.Callback):
    """Reset the kept states before the first chunk of every batch of sequences."""

    def __init__(self, chunks_per_sequence: int):
        super().__init__()
        self.chunks_per_sequence = chunks_per_sequence

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        if batch % self.chunks_per_sequence == 0:
            self.model.reset_states()


def label(k) -> str:
    return "full BPTT" if k is None else f"k={k}"


# %%
def main(quick: bool = False) -> None:
    mg.random.seed(0)
    mgl.clear_session()
    rng = mg.random.generator()
    delay, steps, units, batch, ks = 10, 40, 32, 32, [5, 10, 20]  # k < L, k = L, k > L
    n_train, epochs = (256, 6) if quick else (1024, 12)
    train = echo_task(rng, n_train, steps, delay)
    test = echo_task(rng, 256, steps, delay)
    print(f"Delayed echo: y_t = x_(t-{delay}), {steps} steps, {n_train} training sequences")
    print(f"SimpleRNN({units}) + Dense(1, sigmoid), Adam(0.01, global_clipnorm=1), batch {batch}")

    accuracies, initial_weights = compare_truncations(train, test, delay, units, batch, ks, epochs)

    print("\nBy hand: k-step chunks through a stateful SimpleRNN, states reset per sequence")
    print("The gradient of one batch in float64, max |difference| over all weights:")
    print(f"{'':<8}{'chunks vs truncate_gradient':>30}{'full BPTT vs truncate_gradient':>33}")
    for k in (ks[0], ks[-1]):
        truncated, chunked, full = gradients_one_batch(*train, units, batch, k)
        chunk_diff, full_diff = max_diff(chunked, truncated), max_diff(full, truncated)
        print(f"{label(k):<8}{chunk_diff:>30.2e}{full_diff:>33.2e}")
    for k in (ks[0], ks[-1]):
        fit_on_chunks(train, test, delay, units, batch, k, epochs, initial_weights, accuracies[k])


# %% [markdown]
# ## Full BPTT and ``truncate_gradient=k`` side by side


# %%
def compare_truncations(train, test, delay, units, batch, ks, epochs):
    """Train with full BPTT and each ``truncate_gradient=k``; print the learning curves and the
    accuracies. Returns ``({k: accuracy}, initial weights)``."""
    configs = [None, *ks]
    histories, accuracies, starts = {}, {}, []
    steps = train[0].shape[1]
    for k in configs:
        model = build_model(units, steps, truncate_gradient=k)
        starts.append(model.get_weights())
        compile_model(model)
        mg.random.seed(SEED)  # the same shuffling in every run
        history = model.fit(*train, batch_size=batch, epochs=epochs, verbose=0)
        histories[k] = history.history["loss"]
        accuracies[k] = recall_accuracy(model, *test, delay)

    same = all(same_weights(w, starts[0]) for w in starts)
    print(f"\nTraining loss per epoch (all runs from the same initial weights: {same}):")
    print("epoch" + "".join(f"{label(k):>12}" for k in configs))
    for epoch in range(epochs):
        print(f"{epoch + 1:5d}" + "".join(f"{histories[k][epoch]:12.4f}" for k in configs))

    print(f"\n{'':<10}{'reachable':>10}{'accuracy':>10}")
    for k in configs:
        print(f"{label(k):<10}{reachable_fraction(k, steps, delay):>10.2f}{accuracies[k]:>10.3f}")
    print(f"reachable: the fraction of the steps t >= {delay} whose x_(t-{delay}) is in t's chunk")
    print(f"accuracy: on held-out sequences, steps t >= {delay} (chance: 0.5)")
    below = [k for k in ks if k <= delay]
    learners = [None, *(k for k in ks if k > delay)]
    best_below = max(accuracies[k] for k in below)
    worst_learner = min(accuracies[k] for k in learners)
    print(
        f"k <= L ({', '.join(map(label, below))}): best accuracy {best_below:.3f}; "
        f"{', '.join(map(label, learners))}: worst accuracy {worst_learner:.3f}"
    )
    if worst_learner > 0.95 and best_below < worst_learner - 0.1:
        print(f"Truncating at k <= L = {delay} falls short; full BPTT and k > L learn the echo.")
    return accuracies, starts[0]


# %%
def fit_on_chunks(train, test, delay, units, batch, k, epochs, initial_weights, reference):
    """Truncated BPTT by hand: ``fit`` a stateful model on k-step chunks, in order, resetting
    the states at each new batch of sequences; print its losses and test accuracy."""
    steps = train[0].shape[1]
    stateful = build_model(units, k, batch_size=batch, stateful=True)
    same = same_weights(stateful.get_weights(), initial_weights)
    compile_model(stateful)
    history = stateful.fit(
        to_chunks(train[0], batch, k),
        to_chunks(train[1], batch, k),
        batch_size=batch,
        epochs=epochs,
        shuffle=False,  # the chunks of a sequence must arrive in order
        verbose=0,
        callbacks=[ResetStatesAtSequenceStart(steps // k)],
    )
    evaluator = build_model(units, steps)  # the same forward pass, on whole sequences
    evaluator.set_weights(stateful.get_weights())
    accuracy = recall_accuracy(evaluator, *test, delay)
    updates = len(train[0]) // batch * (steps // k)
    print(f"\nfit on {k}-step chunks (same initial weights: {same}), {updates} updates per epoch:")
    print("  loss per epoch: " + " ".join(f"{loss:.3f}" for loss in history.history["loss"]))
    print(f"  test accuracy {accuracy:.3f}; truncate_gradient={k} reached {reference:.3f}")


# %% [markdown]
# ## The same gradient, chunk by chunk
# A chunk's loss is the mean over its k steps, so in float64
#
#     sum over chunks of (k / T) dL_chunk/dw = dL/dw with truncate_gradient=k
#
# to rounding, while full BPTT's dL/dw differs.


# %%
def gradients_one_batch(x, y, units: int, batch: int, k: int):
    """dL/d(weights) on the first ``batch`` sequences, in float64, for one set of weights:
    with ``truncate_gradient=k``, summed over k-step chunks of a stateful model, and full BPTT.

    L is the mean binary cross-entropy over the batch and all steps; a chunk's loss is the mean
    over its k steps, so the chunks' gradients add up to (steps / k) times the gradient of L.
    """
    previous_floatx = mg.floatx()
    mg.set_floatx("float64")
    try:
        steps = x.shape[1]
        xb, yb = x[:batch].astype("float64"), y[:batch].astype("float64")
        loss_fn = mgl.losses.BinaryCrossentropy()

        def gradient(model, inputs, targets):
            with mg.GradientTape() as tape:
                loss = loss_fn(targets, model(mg.tensor(inputs)))
            return [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]

        truncated = gradient(build_model(units, steps, truncate_gradient=k), xb, yb)
        full = gradient(build_model(units, steps), xb, yb)

        stateful = build_model(units, k, batch_size=batch, stateful=True)
        stateful.reset_states()
        chunked = [np.zeros_like(g) for g in truncated]
        for start in range(0, steps, k):  # in order: each chunk starts from the kept states
            chunk = slice(start, start + k)
            for total, g in zip(
                chunked, gradient(stateful, xb[:, chunk], yb[:, chunk]), strict=True
            ):
                total += g * (k / steps)
        return truncated, chunked, full
    finally:
        mg.set_floatx(previous_floatx)


def same_weights(a: list, b: list) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def max_diff(a: list, b: list) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for the test suite")
    main(parser.parse_known_args()[0].quick)
