using CostModel.Simulation;

if (YoungGeneration.RunAgainWithBudget(args) is { } childExitCode)
{
    return childExitCode;
}

int exitCode = ReportRunner.Run(args, Console.Out, Console.Error);
if (exitCode == 0)
{
    await Console.Error.WriteLineAsync(ReportRunner.CollectorSummary());
}

return exitCode;
