import { classNames } from "./Button";

export interface AvatarProps {
  name: string;
  /** Seeds the colour, so one person keeps one colour wherever they appear. Defaults to the name. */
  id?: string;
  size?: "sm" | "md" | "lg";
}

export function Avatar({ name, id, size = "md" }: AvatarProps) {
  return (
    <span
      className={classNames("sl-avatar", size !== "md" && `sl-avatar--${size}`)}
      style={{ background: avatarColor(id ?? name) }}
      role="img"
      aria-label={name}
      title={name}
    >
      {initials(name)}
    </span>
  );
}

/** "Ana Alvarez" -> "AA", "ben" -> "B". */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? "?";
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** A stable, readable colour per key: a hue from a string hash at fixed saturation and lightness. */
export function avatarColor(key: string): string {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  return `hsl(${Math.abs(hash) % 360} 55% 42%)`;
}
