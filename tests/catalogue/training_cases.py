"""Bad inputs to training: losses and metrics given targets that do not fit the outputs, sparse
labels that are not class ids, optimizer hyperparameters, fit arguments."""

import numpy as np

import minigrad_layers as mgl
from catalogue.case import Case
from minigrad_layers import losses, metrics, optimizers


def _compiled_model():
    model = mgl.Sequential([mgl.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    return model


def _fit(x_rows=10, y_rows=10, **kwargs):
    return _compiled_model().fit(np.ones((x_rows, 3)), np.ones((y_rows, 1)), verbose=0, **kwargs)


_PROBS = np.full((3, 3), 1 / 3)

CASES = [
    Case(
        "mse of targets (4,) against outputs (4, 4)",
        lambda: losses.MeanSquaredError()(np.zeros(4), np.zeros((4, 4))),
        ValueError,
        ("mean_squared_error", "y_true (4,)", "y_pred (4, 4)"),
    ),
    Case(
        "mae of mismatched last axes",
        lambda: losses.MeanAbsoluteError()(np.zeros((4, 2)), np.zeros((4, 3))),
        ValueError,
        ("mean_absolute_error", "y_true (4, 2)", "y_pred (4, 3)"),
    ),
    Case(
        "categorical crossentropy of mismatched classes",
        lambda: losses.CategoricalCrossentropy()(np.zeros((2, 3)), np.full((2, 4), 0.25)),
        ValueError,
        ("categorical_crossentropy", "(2, 3)", "(2, 4)"),
    ),
    Case(
        "sparse crossentropy label 5 with 3 classes",
        lambda: losses.SparseCategoricalCrossentropy()(np.array([0, 5, 1]), _PROBS),
        ValueError,
        ("sparse_categorical_crossentropy", "[0, 3)", "label 5"),
    ),
    Case(
        "sparse crossentropy non-integer label",
        lambda: losses.SparseCategoricalCrossentropy()(np.array([0.0, 1.7, 2.0]), _PROBS),
        ValueError,
        ("integer class ids in [0, 3)", "non-integer label 1.7"),
    ),
    Case(
        "sparse crossentropy labels of the wrong shape",
        lambda: losses.SparseCategoricalCrossentropy()(np.zeros(4, int), _PROBS),
        ValueError,
        ("y_true (4,)", "y_pred (3, 3)"),
    ),
    Case(
        "sparse accuracy label -1",
        lambda: metrics.sparse_categorical_accuracy(np.array([-1, 0, 0]), _PROBS),
        ValueError,
        ("sparse_categorical_accuracy", "[0, 3)", "label -1"),
    ),
    Case(
        "binary accuracy of mismatched shapes",
        lambda: metrics.binary_accuracy(np.zeros(4), np.zeros((4, 2))),
        ValueError,
        ("binary_accuracy", "y_true (4,)", "y_pred (4, 2)"),
    ),
    Case(
        "categorical accuracy of mismatched classes",
        lambda: metrics.categorical_accuracy(np.zeros((4, 3)), np.zeros((4, 2))),
        ValueError,
        ("categorical_accuracy", "y_true (4, 3)", "y_pred (4, 2)"),
    ),
    Case(
        "fit with x and y of different lengths",
        lambda: _fit(y_rows=7),
        ValueError,
        ("x has 10", "y has 7"),
    ),
    Case(
        "fit with a fractional number of epochs",
        lambda: _fit(epochs=2.5),
        TypeError,
        ("epochs must be an int >= 0", "received 2.5"),
    ),
    Case(
        "fit with validation_split 1",
        lambda: _fit(validation_split=1.0),
        ValueError,
        ("validation_split", "received 1.0"),
    ),
    Case(
        "fit with batch_size 0",
        lambda: _fit(batch_size=0),
        ValueError,
        ("batch_size must be a positive int or None", "received 0"),
    ),
    Case(
        "unknown loss name at compile",
        lambda: mgl.Sequential([mgl.Dense(1)]).compile("sgd", "msee"),
        ValueError,
        ("Unknown loss 'msee'", "'mse'"),
    ),
    Case(
        "optimizer given Keras 1's lr",
        lambda: optimizers.Adam(lr=0.1),
        TypeError,
        ("['lr']", "learning_rate"),
    ),
    Case(
        "adam with beta_1 of 1",
        lambda: optimizers.Adam(beta_1=1.0),
        ValueError,
        ("`beta_1`", "[0, 1)", "received 1.0"),
    ),
    Case(
        "sgd with a negative learning rate",
        lambda: optimizers.SGD(learning_rate=-0.1),
        ValueError,
        ("`learning_rate`", "[0, inf)", "received -0.1"),
    ),
    Case(
        "rmsprop with epsilon 0",
        lambda: optimizers.RMSprop(epsilon=0.0),
        ValueError,
        ("`epsilon`", "(0, inf)", "received 0.0"),
    ),
    Case(
        "sgd with a negative clipnorm",
        lambda: optimizers.SGD(clipnorm=-1.0),
        ValueError,
        ("`clipnorm`", "[0, inf)", "received -1.0"),
    ),
    Case(
        "adam with a learning rate given as a string",
        lambda: optimizers.Adam(learning_rate="fast"),
        ValueError,
        ("`learning_rate`", "'fast'", "of type str"),
    ),
]
