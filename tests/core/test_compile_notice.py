"""The first real compilation of a minigrad kernel prints one line; nothing else does."""

from types import SimpleNamespace

from minigrad import compile_notice


def _event(module):
    func = SimpleNamespace(__module__=module)
    return SimpleNamespace(data={"dispatcher": SimpleNamespace(py_func=func)})


def test_one_line_at_the_first_minigrad_compilation_only(capsys, monkeypatch):
    monkeypatch.delenv("MINIGRAD_QUIET", raising=False)
    notice = compile_notice._FirstCompileNotice()
    notice.on_start(_event("numpy_user_code"))  # someone else's kernel: no notice
    assert capsys.readouterr().err == ""
    notice.on_start(_event("minigrad.kernels"))
    notice.on_start(_event("minigrad.matmul_kernels"))
    assert capsys.readouterr().err == compile_notice.NOTICE + "\n"


def test_quiet_when_asked(capsys, monkeypatch):
    monkeypatch.setenv("MINIGRAD_QUIET", "1")
    compile_notice._FirstCompileNotice().on_start(_event("minigrad.kernels"))
    assert capsys.readouterr().err == ""


def test_the_listener_is_registered_for_numba_compile_events():
    from numba.core import event

    assert compile_notice.listener in event._registered["numba:compile"]
