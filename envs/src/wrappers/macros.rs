//! The macros the wrappers share to pass `Env` methods through to the env they wrap.

/// The `Env` methods every wrapper passes straight through (`id`, rendering, and
/// `check_action` for wrappers that hand actions on unchanged), for wrappers whose inner env
/// sits in the field `env`. Wrappers with an action space of their own (`ClipAction`,
/// `RescaleAction`) write `forward_env_basics!(own_action_space)` and keep the default
/// `check_action`, which checks their own space.
macro_rules! forward_env_basics {
    () => {
        forward_env_basics!(own_action_space);

        fn check_action(&self, action: $crate::env::ActionRef<'_>) -> $crate::error::Result<()> {
            self.env.check_action(action)
        }
    };
    (own_action_space) => {
        fn id(&self) -> &str {
            self.env.id()
        }

        fn render(&self) -> $crate::error::Result<image::RgbImage> {
            self.env.render()
        }

        fn render_into(
            &self,
            width: u32,
            height: u32,
            out: &mut [u8],
        ) -> $crate::error::Result<()> {
            self.env.render_into(width, height, out)
        }

        fn render_fps(&self) -> u32 {
            self.env.render_fps()
        }
    };
}

/// `inner`, `inner_mut` and `into_inner` for a wrapper whose inner env sits in `env`.
macro_rules! inner_accessors {
    ($ty:ident) => {
        impl<E> $ty<E> {
            /// The wrapped env.
            pub fn inner(&self) -> &E {
                &self.env
            }

            /// The wrapped env, mutably. Changing its state behind the wrapper's back can
            /// desynchronise the wrapper's own state (stacks, statistics).
            pub fn inner_mut(&mut self) -> &mut E {
                &mut self.env
            }

            /// Unwrap, dropping the wrapper's state.
            pub fn into_inner(self) -> E {
                self.env
            }
        }
    };
}
