using CostModel.Simulation;

return YoungGeneration.RunAgainWithBudget(args) ?? ReportRunner.Run(args, Console.Out, Console.Error);
