//! `api_fn!`, the registration macro of the API modules: a module function whose errors are
//! located at the script's call.

/// Register a module function that receives the call context, so any error it returns is
/// located at the script's call (Rhai does not position errors of module-qualified calls).
// The immediately called closure gives `?` inside `$body` a scope to return from.
macro_rules! api_fn {
    ($m:expr, $name:expr, |$($arg:ident : $ty:ty),*| -> $ret:ty $body:block) => {
        $m.set_native_fn(
            $name,
            move |ctx: rhai::NativeCallContext, $($arg: $ty),*| -> $ret {
                #[allow(clippy::redundant_closure_call)]
                $crate::script::api::located(&ctx, (|| -> $ret { $body })())
            },
        )
    };
    ($m:expr, $name:expr, |$($arg:ident : $ty:ty),*| $body:expr) => {
        $m.set_native_fn($name, move |ctx: rhai::NativeCallContext, $($arg: $ty),*| {
            #[allow(clippy::redundant_closure_call)]
            $crate::script::api::located(&ctx, (|| $body)())
        })
    };
}
