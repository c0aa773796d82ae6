import { useEffect, useState } from "react";
import { useAppDispatch, useAppSelector } from "../../app/hooks";
import { activityClosed } from "../state/activitySlice";
import { loadActivity } from "../state/loaders";
import { ActivityView } from "../views/ActivityView";
import { ProjectPage, useProjectId } from "./ProjectScope";

export function ActivityContainer() {
  const projectId = useProjectId();
  const dispatch = useAppDispatch();
  const { entries, loading } = useAppSelector((state) => state.activity);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    void loadActivity(dispatch, projectId);
    // Closing the feed stops the reloads the project's publications would cause.
    return () => void dispatch(activityClosed());
  }, [dispatch, projectId]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);

  return (
    <ProjectPage module="activity" title="Activity">
      <ActivityView entries={entries} loading={loading && entries.length === 0} now={now} />
    </ProjectPage>
  );
}
