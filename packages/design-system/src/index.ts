// @sluice/design-system: elements and components that know nothing of the store. Props in, callbacks out.
// Styles: import "@sluice/design-system/styles.css" once at the app's root.
export { Icon, iconNames, type IconName, type IconProps } from "./Icon";
export {
  Button,
  IconButton,
  classNames,
  type ButtonProps,
  type IconButtonProps,
  type ButtonVariant,
  type ButtonSize,
} from "./Button";
export { FormField, type FormFieldProps, type FieldControlProps } from "./FormField";
export { TextField, type TextFieldProps } from "./TextField";
export { NumberField, parseNumber, type NumberFieldProps } from "./NumberField";
export { DateTimeField, toDateTimeLocal, fromDateTimeLocal, type DateTimeFieldProps } from "./DateTimeField";
export { Select, type SelectProps, type SelectOption } from "./Select";
export { Card, CardBody, type CardProps } from "./Card";
export { Panel, type PanelProps } from "./Panel";
export {
  Badge,
  StatusPill,
  orderStatusLabel,
  routeStatusLabel,
  type BadgeProps,
  type StatusPillProps,
  type Tone,
} from "./StatusPill";
export { DataTable, type DataTableProps, type Column } from "./DataTable";
export { ListRow, type ListRowProps } from "./ListRow";
export { EmptyState, type EmptyStateProps } from "./EmptyState";
export { Dialog, type DialogProps } from "./Dialog";
export { ConfirmDialog, type ConfirmDialogProps } from "./ConfirmDialog";
export { NavTabs, type NavTabsProps, type NavTab } from "./NavTabs";
export { ToastStack, Toast, type ToastStackProps, type ToastMessage, type ToastTone } from "./Toast";
export { ErrorBanner, type ErrorBannerProps } from "./ErrorBanner";
export { Notice, type NoticeProps } from "./Notice";
export { Avatar, initials, avatarColor, type AvatarProps } from "./Avatar";
export { PresenceStack, type PresenceStackProps, type PresentPerson } from "./PresenceStack";
export { ConnectionStatus, type ConnectionStatusProps, type ConnectionState } from "./ConnectionStatus";
export { AppLauncher, type AppLauncherProps, type LauncherApp, type LauncherModule } from "./AppLauncher";
export { Taskbar, type TaskbarProps, type TaskbarTask } from "./Taskbar";
export { Shell, type ShellProps } from "./Shell";
export { StopList, moveItem, type StopListProps, type StopItem } from "./StopList";
export { SegmentedControl, type SegmentedControlProps, type Segment } from "./SegmentedControl";
export { LoadBar, loadTone, type LoadBarProps, type LoadTone } from "./LoadBar";
export { followLink } from "./link";
