"""``nengo-lmu mackey-glass``: the LMU against an LSTM of equal size on Mackey-Glass prediction.

:func:`run` trains both through the same protocol (:data:`MACKEY_GLASS_PROTOCOL`), the LMU
through NengoDL (:mod:`nengo_lmu.dl`), and reports their test NRMSE per seed.
"""

import time

import numpy as np

from .. import validation
from . import MAX_ORDER, MAX_STEPS, Command, Option, arguments, check_output, log, save_figure, save_json, values

WHERE = "mackey_glass"


MACKEY_GLASS_PROTOCOL = (
    "Same data, budget and selection procedure for both models. One Mackey-Glass series "
    "(--data-seed), normalised with the training part's mean and std; the first "
    "(0.7 - valid_fraction) of it trains (whole minibatches of windows), the next "
    "valid_fraction validates, the last 0.3 tests (windows never straddle two parts). Both models see the same --window samples "
    "and predict --horizon steps ahead, with the same epochs, minibatch size, Adam and "
    "cosine decay to 0, MSE loss. The LSTM (Keras defaults, last state -> Dense(1)) has "
    "--lstm-units units; the LMU's hidden units are set so that its parameter count is "
    "within 1% of the LSTM's. The learning rate of each model is chosen independently "
    "from the same grid (--lrs) by validation NRMSE with the first seed; every seed is "
    "then trained at that rate and the test NRMSE is reported per seed, with mean and "
    "sample std. The test part is used for nothing but these reported figures. The LMU's "
    "order and theta defaults were picked by validation NRMSE in preliminary runs."
)


def _stats(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def run(window=32, horizon=15, order=8, theta=20.0, lstm_units=25, epochs=20, batch_size=32,
        lrs=(0.01, 0.02, 0.04, 0.08), seeds=(0, 1, 2), n_samples=6000, valid_fraction=0.15, data_seed=0,
        out_dir="results", overwrite=False):
    """LMU (through NengoDL) vs an LSTM of equal parameter count, ``horizon``-step-ahead prediction.

    Writes ``mackey-glass.json`` and ``mackey-glass.png``; returns the JSON's content with
    ``"files"``.
    """
    # --- every argument and the output directory, before any work
    def integer(value, attr, high, low=1):
        return validation.integer(value, attr, low=low, high=high, where=WHERE)

    window = integer(window, "window", high=10_000)
    horizon = integer(horizon, "horizon", high=10_000)
    order = integer(order, "order", high=MAX_ORDER)
    theta = validation.number(theta, "theta", low=0, high=window, low_open=True, where=WHERE)
    lstm_units = integer(lstm_units, "lstm_units", high=10_000)
    epochs = integer(epochs, "epochs", high=10_000)
    batch_size = integer(batch_size, "batch_size", high=100_000)
    lrs = values(lrs, "lrs", lambda v, a: validation.positive(v, a, where=WHERE), where=WHERE)
    seeds = values(seeds, "seeds", lambda v, a: integer(v, a, low=0, high=None), where=WHERE)
    n_samples = integer(n_samples, "n_samples", high=MAX_STEPS)
    valid_fraction = validation.number(valid_fraction, "valid_fraction", low=0, high=0.6, low_open=True,
                                       high_open=True, where=WHERE)
    data_seed = integer(data_seed, "data_seed", low=0, high=None)
    n = n_samples
    split_valid, split_test = int((0.7 - valid_fraction) * n), int(0.7 * n)
    shortest = min(split_valid, split_test - split_valid, n - split_test)
    if shortest < window + horizon + batch_size:
        raise validation.error(
            f"{n} is too short: every part (train / valid / test) needs at least window + horizon + "
            f"batch size = {window + horizon + batch_size} samples",
            "n_samples", where=WHERE,
        )
    h = lstm_units
    lstm_params = 4 * (h * (h + 1) + h) + h + 1
    # LMU with input_to_hidden and a linear readout: units * (order + 3) + 2 parameters
    units = max(1, round((lstm_params - 2) / (order + 3)))
    lmu_params = units * (order + 3) + 2
    if abs(lmu_params - lstm_params) > 0.01 * lstm_params:
        raise validation.error(
            f"no LMU of order {order} is within 1% of the LSTM's {lstm_params} parameters "
            f"(closest: {lmu_params}); lower --order or raise --lstm-units",
            "order", where=WHERE,
        )
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    import tensorflow as tf

    from .. import data, dl, maths
    from ..lmu import LMU

    tf.get_logger().setLevel("ERROR")  # retracing notes from predicting in a loop
    start_all = time.perf_counter()
    series = data.mackey_glass(n, seed=data_seed)
    mean, std = series[:split_valid].mean(), series[:split_valid].std()
    series = (series - mean) / std
    parts = {
        "train": data.mackey_glass_windows(series[:split_valid], window, horizon),
        "valid": data.mackey_glass_windows(series[split_valid:split_test], window, horizon),
        "test": data.mackey_glass_windows(series[split_test:], window, horizon),
    }
    # whole minibatches only (NengoDL's minibatch size is fixed), for both models alike
    n_train = len(parts["train"][0]) - len(parts["train"][0]) % batch_size
    parts["train"] = tuple(a[:n_train] for a in parts["train"])
    x_train, y_train = parts["train"]
    x_eval = np.concatenate([parts["valid"][0], parts["test"][0]])  # one prediction pass for both
    n_valid = len(parts["valid"][0])
    dt = 0.001

    def split(pred):
        return {"valid": pred[:n_valid], "test": pred[n_valid:]}

    def schedule(lr):  # a fresh schedule per run, identical for both models
        steps = epochs * (len(x_train) // batch_size)
        return tf.keras.optimizers.schedules.CosineDecay(lr, steps)

    def train_lmu(lr, seed):
        tf.random.set_seed(seed)
        lmu = LMU(
            units, order, theta * dt, input_to_hidden=True, output_dimensions=1, dt=dt,
            neuron_type="relu", seed=seed,
        )
        assert lmu.n_trainable == lmu_params
        hist = dl.fit(
            lmu, x_train, y_train, epochs=epochs, batch_size=batch_size, loss="mse",
            learning_rate=schedule(lr), verbose=0,
        )
        return split(dl.predict(lmu, x_eval, batch_size=256)), hist["seconds"], hist["loss"][-1]

    def train_lstm(lr, seed):
        tf.random.set_seed(seed)
        inp = tf.keras.Input((window, 1))
        out = tf.keras.layers.Dense(1)(tf.keras.layers.LSTM(h)(inp))
        model = tf.keras.Model(inp, out)
        assert model.count_params() == lstm_params
        model.compile(tf.optimizers.Adam(schedule(lr)), "mse")
        start = time.perf_counter()
        hist = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
        secs = time.perf_counter() - start
        return split(model.predict(x_eval, batch_size=256, verbose=0)), secs, float(hist.history["loss"][-1])

    models = {
        "lmu": {
            "train": train_lmu, "n_parameters": lmu_params,
            "architecture": {
                "units": units, "order": order, "theta_steps": theta, "neuron_type": "relu",
                "input_to_hidden": True, "hidden_to_hidden": False, "readout": "linear, 1 output",
                "trained": "NengoDL, parallel formulation",
            },
        },
        "lstm": {
            "train": train_lstm, "n_parameters": lstm_params,
            "architecture": {"units": h, "layer": "keras.layers.LSTM (defaults)", "readout": "Dense(1)"},
        },
    }
    results = {
        "task": "mackey-glass", "args": arguments(run, locals()), "protocol": MACKEY_GLASS_PROTOCOL,
        "n_windows": {k: len(v[0]) for k, v in parts.items()},
        "normalisation": {"mean": float(mean), "std": float(std), "from": "training part"},
        "lr_grid": lrs, "seeds": seeds, "selection_seed": seeds[0],
    }
    log(
        f"Mackey-Glass, {horizon} steps ahead from {window}: LMU {lmu_params} parameters "
        f"({units} units, order {order}, theta {theta:g}), LSTM {lstm_params} ({h} units); "
        f"{len(x_train)} / {results['n_windows']['valid']} / {results['n_windows']['test']} windows"
    )

    def record(name, lr, seed):
        preds, secs, loss = models[name]["train"](lr, seed)
        run = {
            "seed": seed, "lr": lr, "valid_nrmse": maths.nrmse(preds["valid"], parts["valid"][1]),
            "test_nrmse": maths.nrmse(preds["test"], parts["test"][1]), "train_seconds": secs,
            "final_train_loss": loss,
        }
        log(f"  {name.upper():4s} seed {seed} lr {lr:g}: valid NRMSE {run['valid_nrmse']:.5f}, "
             f"test {run['test_nrmse']:.5f} ({secs:.0f} s)")
        return run, preds["test"]

    first_preds = {}
    for name, model in models.items():
        log(f"{name.upper()}: learning rate search on validation (seed {seeds[0]})")
        search = [record(name, lr, seeds[0]) for lr in lrs]
        best = min(range(len(search)), key=lambda i: search[i][0]["valid_nrmse"])
        lr = lrs[best]
        first_preds[name] = search[best][1]
        runs = [search[best][0]]
        for seed in seeds[1:]:
            runs.append(record(name, lr, seed)[0])
        test = [r["test_nrmse"] for r in runs]
        mean_, std_ = _stats(test)
        results[name] = {
            "n_parameters": model["n_parameters"], "architecture": model["architecture"],
            "lr_search": [{"lr": r["lr"], "valid_nrmse": r["valid_nrmse"], "test_nrmse": r["test_nrmse"],
                           "train_seconds": r["train_seconds"]} for r, _ in search],
            "chosen_lr": lr, "runs": runs, "test_nrmse": test,
            "test_nrmse_mean": mean_, "test_nrmse_std": std_,
            "train_seconds_total": float(sum(r["train_seconds"] for r, _ in search)
                                         + sum(r["train_seconds"] for r in runs[1:])),
        }
        log(f"{name.upper()} (lr {lr:g}): test NRMSE {mean_:.5f} +- {std_:.5f} over seeds {seeds}")

    lmu_test, lstm_test = results["lmu"]["test_nrmse"], results["lstm"]["test_nrmse"]
    results["lmu_better"] = results["lmu"]["test_nrmse_mean"] < results["lstm"]["test_nrmse_mean"]
    results["lmu_better_every_seed"] = all(a < b for a, b in zip(lmu_test, lstm_test))
    results["parameter_ratio"] = lmu_params / lstm_params
    results["total_seconds"] = time.perf_counter() - start_all
    log(
        f"test NRMSE, mean +- std over {len(seeds)} seeds: LMU {results['lmu']['test_nrmse_mean']:.5f} +- "
        f"{results['lmu']['test_nrmse_std']:.5f}, LSTM {results['lstm']['test_nrmse_mean']:.5f} +- "
        f"{results['lstm']['test_nrmse_std']:.5f}; LMU lower: {results['lmu_better']} (mean), "
        f"{results['lmu_better_every_seed']} (every seed); {results['total_seconds']:.0f} s in all"
    )
    json_path = save_json(results, out_dir, "mackey-glass", overwrite)

    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 1], height_ratios=[1, 1.3], wspace=0.3)
    ax, ex, bx = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    k = slice(0, 400)
    y_test = parts["test"][1]
    ax.plot(y_test[k, 0], "k", lw=1.5)
    ax.set_ylabel("target")
    ax.set_title(f"{horizon}-step-ahead prediction, test part (normalised)", fontsize=9)
    ax.tick_params(labelbottom=False)
    for name in ("lmu", "lstm"):
        ex.plot(first_preds[name][k, 0] - y_test[k, 0], lw=1, label=f"{name.upper()} (seed {seeds[0]})")
    ex.set_xlabel("test window")
    ex.set_ylabel("prediction - target")
    ex.legend(fontsize=8)
    for i, name in enumerate(("lmu", "lstm")):
        r = results[name]
        bx.plot(np.full(len(r["test_nrmse"]), i), r["test_nrmse"], "o", alpha=0.6)
        bx.errorbar(i + 0.15, r["test_nrmse_mean"], yerr=r["test_nrmse_std"], fmt="k_", capsize=3)
    bx.set_xticks([0, 1], [f"LMU\n{lmu_params}", f"LSTM\n{lstm_params}"])
    bx.set_xlim(-0.5, 1.5)
    bx.set_ylabel("test NRMSE")
    bx.set_title("per seed, mean +- std", fontsize=9)
    results["figure"] = save_figure(fig, out_dir, "mackey-glass", overwrite)
    results["json"] = json_path
    results["files"] = [json_path, results["figure"]]
    return results


COMMANDS = {
    "mackey-glass": Command(
        help="LMU vs equal-size LSTM on Mackey-Glass prediction",
        run=run,
        options=(
            Option("window", int, "input window (steps), the same for both"),
            Option("horizon", int, "prediction horizon (steps)"),
            Option("order", int, "LMU memory order"),
            Option("theta", float, "LMU memory window (steps), at most --window"),
            Option("lstm_units", int, "LSTM units; the LMU is sized to match its parameters"),
            Option("epochs", int, "epochs, the same for both"),
            Option("batch_size", int, "minibatch size, the same for both"),
            Option("lrs", list, "grid of initial Adam learning rates (cosine decay to 0), searched for each "
                   "model on the validation part with the first seed (comma-separated)"),
            Option("seeds", list, "seeds of the initial weights and minibatch order, the same for both "
                   "(comma-separated)"),
            Option("n_samples", int, "length of the series (the last 30%% tests)"),
            Option("valid_fraction", float, "fraction of the series, just before the test part, that validates "
                   "(picks the learning rate)"),
            Option("data_seed", int, "seed of the series' initial history"),
        ),
    ),
}
