import { Navigate, useLocation, useNavigate } from "react-router";
import { useAppDispatch, useAppSelector } from "../app/hooks";
import { useClient } from "../app/clientContext";
import { AuthError, signIn } from "./authApi";
import { signedIn, signedOut, signInStarted } from "./sessionSlice";
import { SignInView } from "./SignInView";

/** Signs in over REST (the server sets the cookie), then opens the socket the cookie authenticates. */
export function SignInContainer() {
  const dispatch = useAppDispatch();
  const client = useClient();
  const navigate = useNavigate();
  const location = useLocation();
  const { status, error } = useAppSelector((state) => state.session);
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  if (status === "signedIn") return <Navigate to={from} replace />;

  return (
    <SignInView
      busy={status === "signingIn"}
      error={error}
      onSubmit={(email, password) => {
        dispatch(signInStarted());
        signIn(email, password).then(
          ({ user }) => {
            dispatch(signedIn(user));
            client.reconnect();
            navigate(from, { replace: true });
          },
          (failure: unknown) =>
            dispatch(
              signedOut(
                failure instanceof AuthError
                  ? { kind: "refused", code: failure.code, message: failure.message }
                  : { kind: "unreachable", code: "UNAVAILABLE", message: "The server could not be reached." },
              ),
            ),
        );
      }}
    />
  );
}
